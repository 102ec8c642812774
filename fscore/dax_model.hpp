// SPDX-License-Identifier: BSD-3-Clause
// The kernel's per-file DAX rule (Documentation/filesystems/dax.rst), stated once for every
// volume and for the engine that predicts what a volume will do.
#pragma once

#include "fscore/volume.hpp"

namespace daxpolicy::fscore
{

// Whether a file of this type can be served DAX at all. Only regular files: a directory
// carries FS_XFLAG_DAX only for its children to inherit at create.
bool can_be_dax(FileType type);

// Whether a file of this type can carry FS_XFLAG_DAX: regular files and directories, not
// symbolic links, devices, sockets or fifos.
bool can_carry_dax_flag(FileType type);

// S_DAX of a file not in use, which is what it becomes once nobody has it open or mapped:
// dax=always serves every regular file DAX, dax=never none, dax=inode those with the flag; a
// medium that is not DAX-capable serves none.
bool effective_dax(DaxMode mode, bool medium_dax_capable, FileType type, bool flag);

} // namespace daxpolicy::fscore
