// SPDX-License-Identifier: BSD-3-Clause
#include "bench/process.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

namespace daxpolicy::bench
{

std::string run_program(std::vector<std::string> argv, bool quiet)
{
	std::vector<char *> args;
	for (auto &a : argv)
		args.push_back(a.data());
	args.push_back(nullptr);
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	if (quiet)
		posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int err = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
	posix_spawn_file_actions_destroy(&actions);
	if (err)
		return argv[0] + ": " + std::strerror(err);
	int status = 0;
	// Retry on EINTR: the child got the same Ctrl-C and is about to exit, and it must be
	// reaped before the caller unwinds and cleans up.
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return argv[0] + ": waitpid: " + std::strerror(errno);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return {};
	if (WIFEXITED(status))
		return argv[0] + " exited with status " + std::to_string(WEXITSTATUS(status));
	return argv[0] + " was killed by signal " + std::to_string(WTERMSIG(status));
}

} // namespace daxpolicy::bench
