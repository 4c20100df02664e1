// How many threads bertforge uses. LibTorch's default may leave cores idle; we default to every hardware
// thread and let `--threads N` (on every subcommand) override it.
#pragma once

namespace bertforge {

// requested > 0 is taken as is; 0 means std::thread::hardware_concurrency() (at least 1).
int resolve_threads(int requested);

// Sets LibTorch's intra-op pool to resolve_threads(requested) and remembers it for bertforge's own pools
// (tokenization, data preparation). Call once, early, before any tensor work. Returns the count set.
int set_threads(int requested);

// The count last set by set_threads (hardware_concurrency before any call).
int num_threads();

}  // namespace bertforge
