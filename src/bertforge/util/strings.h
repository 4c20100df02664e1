// String helpers the rooms share.
#pragma once
#include <string>
#include <string_view>

namespace bertforge {

// Replaces every non-overlapping occurrence of `from` in s by `to`, left to right (Python's str.replace); the
// text put in is never searched again. `from` must not be empty.
void replace_all(std::string& s, std::string_view from, std::string_view to);

}  // namespace bertforge
