// `bertforge launch --nproc-per-node N [--nnodes M --node-rank R --master-addr A --master-port P] -- CMD…`:
// runs `bertforge CMD…` (or, with --exec, the program CMD) once per local rank, as torchrun would.
#include <unistd.h>

#include <climits>

#include "bertforge/cli/commands.h"
#include "bertforge/dist/launcher.h"

namespace bertforge::cli {

namespace {
// This binary's own path, so the ranks run the same bertforge as the launcher.
std::string self_path() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "bertforge";
}
}  // namespace

Command add_launch(CLI::App& parent) {
  auto* app = parent.add_subcommand("launch", "run a bertforge command as several data-parallel processes");
  struct Args {
    dist::LaunchOptions o;
    double grace_s = 30;
    bool exec = false;
    std::vector<std::string> command;
  };
  auto a = std::make_shared<Args>();
  app->add_option("--nproc-per-node,--nproc_per_node", a->o.nproc_per_node, "processes on this machine (one per GPU)")
      ->check(CLI::PositiveNumber);
  app->add_option("--nnodes", a->o.nnodes, "machines taking part")->check(CLI::PositiveNumber);
  app->add_option("--node-rank,--node_rank", a->o.node_rank, "this machine's index, 0 hosts the rendezvous")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--master-addr,--master_addr", a->o.master_addr, "address of node 0")->capture_default_str();
  app->add_option("--master-port,--master_port", a->o.master_port, "rendezvous TCP port on node 0")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  app->add_option("--grace", a->grace_s, "seconds ranks get to stop after a failure or a signal before SIGKILL")
      ->capture_default_str();
  app->add_flag("--exec", a->exec, "run the command as a program, not as a bertforge subcommand");
  app->add_option("command", a->command, "after --: the bertforge subcommand and its options")->required();
  return {app, [a] {
            std::vector<std::string> command = a->command;
            if (!a->exec) command.insert(command.begin(), self_path());
            a->o.grace = std::chrono::milliseconds(static_cast<long>(a->grace_s * 1000));
            return dist::launch(a->o, command);
          }};
}

}  // namespace bertforge::cli
