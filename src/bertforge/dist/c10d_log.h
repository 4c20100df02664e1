// c10d's own log lines, off below ERROR unless TORCH_CPP_LOG_LEVEL asks for them (PyTorch's variable, read as
// PyTorch reads it). What c10d warns about without failing is its own bookkeeping, which a user cannot act
// on; chiefly "The hostname of the client socket cannot be retrieved. err=-3", printed for every connection
// where no DNS server answers (an isolated cluster network, a network namespace): c10d looks each peer's
// address up only to print it, and prints the number instead. What fails still reaches bertforge as an
// exception and is reported in one line naming the peer.
#pragma once

namespace bertforge::dist {

// Idempotent; call before the first store or process group is made.
void quiet_c10d_warnings();

}  // namespace bertforge::dist
