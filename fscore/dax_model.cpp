// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/dax_model.hpp"

namespace daxpolicy::fscore
{

bool can_be_dax(FileType type)
{
	return type == FileType::regular;
}

bool can_carry_dax_flag(FileType type)
{
	return type == FileType::regular || type == FileType::directory;
}

bool effective_dax(DaxMode mode, bool medium_dax_capable, FileType type, bool flag)
{
	if (!can_be_dax(type) || !medium_dax_capable)
		return false;
	return mode == DaxMode::always || (mode == DaxMode::inode && flag);
}

} // namespace daxpolicy::fscore
