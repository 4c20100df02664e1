#include "bertforge/dist/launch_env.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "bertforge/util/error.h"

namespace bertforge::dist {

namespace {

int int_var(const Getenv& getenv, const char* name, int fallback, bool required = false) {
  const char* v = getenv(name);
  if (!v || !*v) {
    if (required) throw Error(std::string("launch environment: ") + name + " is not set");
    return fallback;
  }
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  if (*end || x < 0 || x > 1'000'000)
    throw Error(std::string("launch environment: ") + name + "=" + v + " is not a non-negative integer");
  return static_cast<int>(x);
}

std::string str_var(const Getenv& getenv, const char* name, const std::string& fallback) {
  const char* v = getenv(name);
  return v && *v ? v : fallback;
}

// Top-level commas separate host names; commas inside brackets separate ranges.
std::vector<std::string> split_top(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  int depth = 0;
  for (char c : s) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == sep && depth == 0) out.emplace_back();
    else out.back() += c;
  }
  return out;
}

// "01-03" -> 01 02 03 ; "7" -> 7
std::vector<std::string> expand_range(const std::string& r, const std::string& list) {
  auto dash = r.find('-');
  std::string lo = r.substr(0, dash), hi = dash == std::string::npos ? lo : r.substr(dash + 1);
  auto bad = [&] { return Error("host list '" + list + "': bad range '" + r + "'"); };
  if (lo.empty() || hi.empty() || lo.find_first_not_of("0123456789") != std::string::npos ||
      hi.find_first_not_of("0123456789") != std::string::npos)
    throw bad();
  long a = std::stol(lo), b = std::stol(hi);
  if (b < a || b - a > 100000) throw bad();
  std::vector<std::string> out;
  for (long i = a; i <= b; ++i) {
    std::string n = std::to_string(i);
    if (n.size() < lo.size()) n.insert(0, lo.size() - n.size(), '0');
    out.push_back(n);
  }
  return out;
}

void expand_name(const std::string& name, const std::string& list, std::vector<std::string>& out) {
  auto open = name.find('[');
  if (open == std::string::npos) {
    if (name.find(']') != std::string::npos) throw Error("host list '" + list + "': unbalanced ']'");
    if (!name.empty()) out.push_back(name);
    return;
  }
  auto close = name.find(']', open);
  if (close == std::string::npos) throw Error("host list '" + list + "': unbalanced '['");
  std::string prefix = name.substr(0, open), rest = name.substr(close + 1);
  for (const auto& r : split_top(name.substr(open + 1, close - open - 1), ','))
    for (const auto& n : expand_range(r, list)) expand_name(prefix + n + rest, list, out);
}

}  // namespace

std::vector<std::string> expand_hostlist(const std::string& list) {
  std::vector<std::string> out;
  for (const auto& item : split_top(list, ',')) expand_name(item, list, out);
  return out;
}

LaunchEnv launch_env(const Getenv& getenv) {
  LaunchEnv e;
  if (getenv("WORLD_SIZE")) {
    e.source = "torchrun";
    e.world_size = int_var(getenv, "WORLD_SIZE", 1);
    e.rank = int_var(getenv, "RANK", 0, e.world_size > 1);
    e.local_rank = int_var(getenv, "LOCAL_RANK", e.rank);
    e.local_world_size = int_var(getenv, "LOCAL_WORLD_SIZE", e.world_size);
    e.agent_store = std::string_view(str_var(getenv, "TORCHELASTIC_USE_AGENT_STORE", "")) == "True";
  } else if (getenv("SLURM_PROCID") && getenv("SLURM_NTASKS") && getenv("SLURM_LOCALID")) {
    e.source = "slurm";
    e.world_size = int_var(getenv, "SLURM_NTASKS", 1);
    e.rank = int_var(getenv, "SLURM_PROCID", 0);
    e.local_rank = int_var(getenv, "SLURM_LOCALID", 0);
    int nodes = std::max(1, int_var(getenv, "SLURM_NNODES", 1));
    e.local_world_size = int_var(getenv, "SLURM_NTASKS_PER_NODE", (e.world_size + nodes - 1) / nodes);
    std::string nodelist = str_var(getenv, "SLURM_JOB_NODELIST", str_var(getenv, "SLURM_NODELIST", ""));
    if (!getenv("MASTER_ADDR")) {
      auto hosts = expand_hostlist(nodelist);
      if (hosts.empty()) throw Error("launch environment: SLURM_JOB_NODELIST is empty and MASTER_ADDR is unset");
      e.master_addr = hosts.front();
    }
    e.master_port = 20000 + int_var(getenv, "SLURM_JOB_ID", 9500) % 10000;
  } else {
    return e;
  }
  const std::string reduce = str_var(getenv, "BERTFORGE_GRADIENT_ALLREDUCE", "shm");
  if (reduce != "shm" && reduce != "gloo")
    throw Error("launch environment: BERTFORGE_GRADIENT_ALLREDUCE=" + reduce + ": expected shm or gloo");
  e.gloo_gradients = reduce == "gloo";
  e.master_addr = str_var(getenv, "MASTER_ADDR", e.master_addr);
  e.master_port = int_var(getenv, "MASTER_PORT", e.master_port);
  if (e.world_size < 1) throw Error("launch environment (" + e.source + "): world size must be at least 1");
  if (e.rank >= e.world_size)
    throw Error("launch environment (" + e.source + "): rank " + std::to_string(e.rank) +
                " is not below the world size " + std::to_string(e.world_size));
  if (e.master_port < 1 || e.master_port > 65535)
    throw Error("launch environment: MASTER_PORT=" + std::to_string(e.master_port) + " is not a TCP port");
  return e;
}

LaunchEnv launch_env() {
  return launch_env([](const char* name) -> const char* { return std::getenv(name); });
}

}  // namespace bertforge::dist
