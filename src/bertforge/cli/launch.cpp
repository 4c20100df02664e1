// `bertforge launch --nproc-per-node N [--nnodes M --node-rank R --master-addr A --master-port P] -- CMD…`:
// runs `bertforge CMD…` (or, with --exec, the program CMD) once per local rank, as torchrun would. The
// bertforge command line is parsed once here first, so a usage error is reported once, not by every rank.
#include <unistd.h>

#include <algorithm>
#include <climits>

#include "bertforge/cli/commands.h"
#include "bertforge/cli/errors.h"
#include "bertforge/cli/options.h"
#include "bertforge/dist/launcher.h"
#include "bertforge/util/messages.h"

namespace bertforge::cli {

namespace {
// This binary's own path, so the ranks run the same bertforge as the launcher.
std::string self_path() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "bertforge";
}

// Parses the ranks' command line here, once, without running it: an unknown command or a bad option is
// reported by the launcher in one line instead of by every rank. Throws CLI::ParseError.
void check_rank_command(CLI::App& root, std::vector<std::string> args) {
  if (args.front() == "launch") throw CLI::ValidationError("command", "a launch cannot start launches");
  args = accept_both_spellings(root, std::move(args));
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  root.parse(args);
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
  return {app, [a, &parent] {
            std::vector<std::string> command = a->command;
            if (!a->exec) {
              try {
                check_rank_command(parent, command);
              } catch (const CLI::ParseError& e) {
                return report_parse_error(parent, e);
              }
              set_command("launch");
              command.insert(command.begin(), self_path());
            }
            a->o.grace = std::chrono::milliseconds(static_cast<long>(a->grace_s * 1000));
            return dist::launch(a->o, command);
          }};
}

}  // namespace bertforge::cli
