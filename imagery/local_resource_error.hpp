#pragma once
// A failure of this machine, not of a job's tile: PROJ's database unread, no file descriptor
// left. A fetch stops on it with one line, its jobs left planned for the rerun, where failing
// each job for good would blame the tile or its server and a resumed build would leave them out.

#include <stdexcept>
#include <string>

namespace skyscript::imagery {

class LocalResourceError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws LocalResourceError when this process can open no more files (EMFILE, ENFILE): asked
// after a failure (`failed` says which) that running out of them may have caused, since
// libcurl reports a socket() refused as "Couldn't connect to server" and GDAL as a file it
// cannot open. `reported_errno`: the failure's own errno where it tells one (libcurl's
// CURLINFO_OS_ERRNO), EMFILE or ENFILE being enough.
void stop_if_out_of_file_descriptors(const std::string& failed, int reported_errno = 0);

} // namespace skyscript::imagery
