// bench-tile-server: a loopback HTTP/1.1 tile server with a fixed added latency, for
// bench/fetch. Every GET /{z}/{x}/{y}.jpg is answered, after --latency-ms, with one of
// the real JPEG tiles in --tiles (chosen by the path's hash), keep-alive, no threads:
// one epoll loop, so the server itself stays cheap next to what it measures.
// Prints its port; exits when its standard input closes.
//
//   bench-tile-server --tiles DIR --latency-ms 50

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <queue>
#include <sstream>
#include <string>
#include <vector>

using Clock = std::chrono::steady_clock;

struct Conn {
    std::uint64_t gen;
    std::string in, out;
};

struct Due {
    Clock::time_point at;
    int fd;
    std::uint64_t gen;
    std::size_t tile;
    bool operator>(const Due& o) const { return at > o.at; }
};

int main(int argc, char** argv) {
    std::string dir;
    double latency_ms = 50;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--tiles")) dir = argv[i + 1];
        else if (!std::strcmp(argv[i], "--latency-ms")) latency_ms = std::atof(argv[i + 1]);
    }
    std::vector<std::string> responses;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        if (e.path().extension() != ".jpg") continue;
        std::ifstream f(e.path(), std::ios::binary);
        std::ostringstream ss;
        ss << f.rdbuf();
        const auto body = ss.str();
        responses.push_back("HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: " + std::to_string(body.size()) +
                            "\r\n\r\n" + body);
    }
    if (responses.empty()) {
        std::fprintf(stderr, "bench-tile-server: no .jpg under %s\n", dir.c_str());
        return 1;
    }
    const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) || listen(lfd, 1024)) return 1;
    socklen_t len = sizeof addr;
    getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
    std::printf("%d\n", ntohs(addr.sin_port));
    std::fflush(stdout);

    const int ep = epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    ev.data.fd = 0;
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
    std::map<int, Conn> conns;
    std::uint64_t next_gen = 1;
    std::priority_queue<Due, std::vector<Due>, std::greater<>> due;
    const auto latency = std::chrono::microseconds(static_cast<long>(latency_ms * 1000));

    auto flush = [&](int fd, Conn& c) {
        while (!c.out.empty()) {
            const ssize_t n = write(fd, c.out.data(), c.out.size());
            if (n <= 0) break;
            c.out.erase(0, static_cast<std::size_t>(n));
        }
        epoll_event e{};
        e.events = EPOLLIN | (c.out.empty() ? 0u : static_cast<std::uint32_t>(EPOLLOUT));
        e.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
    };
    for (;;) {
        int timeout = -1;
        if (!due.empty()) {
            const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(due.top().at - Clock::now()).count();
            timeout = static_cast<int>(std::max<long>(0, wait));
        }
        epoll_event events[256];
        const int n = epoll_wait(ep, events, 256, timeout);
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == 0) {
                char buf[64];
                if (read(0, buf, sizeof buf) <= 0) return 0; // the bench went away
                continue;
            }
            if (fd == lfd) {
                for (int c; (c = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) {
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conns[c] = Conn{next_gen++, {}, {}};
                    epoll_event e{};
                    e.events = EPOLLIN;
                    e.data.fd = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
                }
                continue;
            }
            auto it = conns.find(fd);
            if (it == conns.end()) continue;
            Conn& c = it->second;
            if (events[i].events & EPOLLOUT) flush(fd, c);
            if (!(events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
            char buf[16384];
            ssize_t r;
            bool closed = false;
            while ((r = read(fd, buf, sizeof buf)) > 0) c.in.append(buf, static_cast<std::size_t>(r));
            if (r == 0) closed = true;
            for (std::size_t end; (end = c.in.find("\r\n\r\n")) != std::string::npos;) {
                const auto line_end = c.in.find("\r\n");
                const std::string path = c.in.substr(0, line_end);
                c.in.erase(0, end + 4);
                due.push({Clock::now() + latency, fd, c.gen, std::hash<std::string>{}(path) % responses.size()});
            }
            if (closed) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
                close(fd);
                conns.erase(it);
            }
        }
        const auto now = Clock::now();
        while (!due.empty() && due.top().at <= now) {
            const Due d = due.top();
            due.pop();
            auto it = conns.find(d.fd);
            if (it == conns.end() || it->second.gen != d.gen) continue; // that client is gone
            it->second.out += responses[d.tile];
            flush(d.fd, it->second);
        }
    }
}
