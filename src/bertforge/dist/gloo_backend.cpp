// Gloo's backend header needs gloo's own headers, which the LibTorch wheel does not ship: Debian's
// libgloo-dev provides them (headers only; the Gloo code that runs is the copy inside libtorch_cpu).
// Only std::shared_ptr handles to gloo objects cross this boundary, so the headers' version does not change
// any layout we depend on.
#include <netdb.h>
#include <sys/socket.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <unistd.h>

#include <cstdlib>

#include "bertforge/dist/backends.h"

namespace bertforge::dist {

namespace {

// The local address this host sends from to reach `host`, as the routing table picks it ("" when there is no
// route): connect() on a UDP socket sends nothing, it only chooses the route.
std::string address_towards(const std::string& host) {
  addrinfo hints{}, *found = nullptr;
  hints.ai_socktype = SOCK_DGRAM;
  if (getaddrinfo(host.c_str(), "9", &hints, &found) != 0) return "";
  std::string local;
  for (addrinfo* a = found; a && local.empty(); a = a->ai_next) {
    int fd = socket(a->ai_family, SOCK_DGRAM, 0);
    if (fd < 0) continue;
    sockaddr_storage self{};
    socklen_t len = sizeof self;
    char text[NI_MAXHOST];
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 && getsockname(fd, reinterpret_cast<sockaddr*>(&self), &len) == 0 &&
        getnameinfo(reinterpret_cast<sockaddr*>(&self), len, text, sizeof text, nullptr, 0, NI_NUMERICHOST) == 0)
      local = text;
    close(fd);
  }
  freeaddrinfo(found);
  return local;
}

bool is_loopback(const std::string& address) { return address.rfind("127.", 0) == 0 || address == "::1"; }

}  // namespace

c10::intrusive_ptr<c10d::Backend> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                            std::chrono::milliseconds timeout, const std::string& master_addr,
                                            bool one_node) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  std::string local = address_towards(master_addr);
  if (ifname && *ifname)
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
  else if (!local.empty() && (one_node || !is_loopback(local)))
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(local));
  else
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
}

}  // namespace bertforge::dist
