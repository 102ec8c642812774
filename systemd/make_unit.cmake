# SPDX-License-Identifier: BSD-3-Clause
# Run at install time (systemd/CMakeLists.txt): daxpolicyd.service from its template, with
# the directories as GNUInstallDirs would make them absolute under the prefix of this install.
foreach(dir SBINDIR BINDIR DOCDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(CMAKE_INSTALL_FULL_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(CMAKE_INSTALL_FULL_${dir} "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
configure_file("${DAXPOLICY_UNIT_TEMPLATE}" "${DAXPOLICY_UNIT_OUTPUT}" @ONLY)
