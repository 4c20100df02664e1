#include "bertforge/dist/launch_env.h"

#include <gtest/gtest.h>

#include <map>

#include "bertforge/util/error.h"

using bertforge::dist::expand_hostlist;
using bertforge::dist::launch_env;
using Env = std::map<std::string, std::string>;

namespace {
bertforge::dist::LaunchEnv from(const Env& env) {
  return launch_env([&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}
}  // namespace

TEST(Hostlist, ExpandsRangesListsAndPadding) {
  using V = std::vector<std::string>;
  EXPECT_EQ(expand_hostlist("node[01-04,07]"), (V{"node01", "node02", "node03", "node04", "node07"}));
  EXPECT_EQ(expand_hostlist("a,b[8-10]c,d"), (V{"a", "b8c", "b9c", "b10c", "d"}));
  EXPECT_EQ(expand_hostlist("r[1-2]n[3,5]"), (V{"r1n3", "r1n5", "r2n3", "r2n5"}));
  EXPECT_EQ(expand_hostlist("gpu-001"), (V{"gpu-001"}));
  EXPECT_THROW(expand_hostlist("n[3-1]"), bertforge::Error);
  EXPECT_THROW(expand_hostlist("n[1-2"), bertforge::Error);
  EXPECT_THROW(expand_hostlist("n[a]"), bertforge::Error);
}

TEST(LaunchEnv, NoLauncherIsOneProcess) {
  auto e = from({});
  EXPECT_EQ(e.world_size, 1);
  EXPECT_EQ(e.rank, 0);
  EXPECT_EQ(e.source, "none");
}

TEST(LaunchEnv, TorchrunVariables) {
  auto e = from({{"RANK", "5"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "4"},
                 {"MASTER_ADDR", "10.0.0.1"}, {"MASTER_PORT", "1234"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"}});
  EXPECT_EQ(e.rank, 5);
  EXPECT_EQ(e.world_size, 8);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.local_world_size, 4);
  EXPECT_EQ(e.master_addr, "10.0.0.1");
  EXPECT_EQ(e.master_port, 1234);
  EXPECT_TRUE(e.agent_store);
  EXPECT_FALSE(from({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"TORCHELASTIC_USE_AGENT_STORE", "False"}}).agent_store);
}

TEST(LaunchEnv, SlurmTakesFirstHostAndJobPort) {
  auto e = from({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "1"}, {"SLURM_NNODES", "2"},
                 {"SLURM_JOB_NODELIST", "gpu[07-08]"}, {"SLURM_JOB_ID", "123456"}});
  EXPECT_EQ(e.source, "slurm");
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.local_world_size, 2);
  EXPECT_EQ(e.master_addr, "gpu07");
  EXPECT_EQ(e.master_port, 23456);
  EXPECT_FALSE(e.agent_store);
  // torchrun's variables win over SLURM's (torchrun inside an allocation); MASTER_* override SLURM's choice.
  EXPECT_EQ(from({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "1"}, {"RANK", "0"},
                  {"WORLD_SIZE", "2"}}).world_size, 2);
  EXPECT_EQ(from({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_LOCALID", "0"}, {"SLURM_NODELIST", "a,b"},
                  {"MASTER_ADDR", "h"}, {"MASTER_PORT", "99"}}).master_addr, "h");
}

TEST(LaunchEnv, BadValuesNameTheVariable) {
  try {
    from({{"RANK", "x"}, {"WORLD_SIZE", "2"}});
    FAIL();
  } catch (const bertforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("RANK=x"), std::string::npos) << e.what();
  }
  EXPECT_THROW(from({{"WORLD_SIZE", "2"}}), bertforge::Error);  // RANK missing
  EXPECT_THROW(from({{"RANK", "2"}, {"WORLD_SIZE", "2"}}), bertforge::Error);
  EXPECT_THROW(from({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}), bertforge::Error);
  try {
    from({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"BERTFORGE_GRADIENT_ALLREDUCE", "tcp"}});
    FAIL();
  } catch (const bertforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("BERTFORGE_GRADIENT_ALLREDUCE=tcp: expected shm or gloo"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(from({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"BERTFORGE_GRADIENT_ALLREDUCE", "gloo"}}).gloo_gradients);
  EXPECT_FALSE(from({{"RANK", "0"}, {"WORLD_SIZE", "2"}}).gloo_gradients);
}
