// How many threads bertforge uses. LibTorch's default may leave cores idle; we default to every hardware
// thread and let `--threads N` (on every subcommand) override it.
#pragma once

namespace bertforge {

// The most --threads accepts: 4 per hardware thread (at least 4). More only adds switching, and a count such
// as 100000 would start threads until the machine runs out.
int max_threads();

// requested > 0 is taken as is; 0 means std::thread::hardware_concurrency() (at least 1).
int resolve_threads(int requested);

// Sets LibTorch's intra-op pool to resolve_threads(requested) and remembers it for bertforge's own pools
// (tokenization, data preparation). Call once, early, before any tensor work. Returns the count set.
int set_threads(int requested);

// The count last set by set_threads (hardware_concurrency before any call).
int num_threads();

// For a background thread (the loader's prefetch): ATen work on the calling thread runs serially from here
// on, so it never takes the intra-op threads the compute thread uses. Only the calling thread changes.
// Returns false where LibTorch's parallel backend is not OpenMP (nothing changed).
bool compute_serially_on_this_thread();

}  // namespace bertforge
