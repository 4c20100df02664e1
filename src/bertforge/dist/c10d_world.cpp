// The World of several processes on c10d: rendezvous through a TCPStore at MASTER_ADDR:MASTER_PORT, then a
// Gloo (CPU) or NCCL (CUDA) backend called directly (no dispatcher ProcessGroup: one backend is all we use).
// Every collective goes through guarded(): a failure becomes an Error naming the rank at fault (health.h),
// and the backend is then abandoned rather than destroyed, since its destructor would wait for work queued
// behind the failed collective. The rendezvous and every collective with its diagnosis run under a Watchdog
// (deadline.h) of the timeout + kMargin: Gloo's timeout and Health's bounded reads end them long before, but
// c10d has calls without a deadline (a TCPStore reply read from a node cut off), and none may hang a rank.
#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdio>

#include "bertforge/dist/backends.h"
#include "bertforge/dist/c10d_log.h"
#include "bertforge/dist/deadline.h"
#include "bertforge/dist/fingerprint.h"
#include "bertforge/dist/grad_buckets.h"
#include "bertforge/dist/health.h"
#include "bertforge/dist/launch_env.h"
#include "bertforge/dist/shm_reduce.h"
#include "bertforge/dist/world.h"
#include "bertforge/util/error.h"
#include "bertforge/util/messages.h"

namespace bertforge::dist {

namespace {

// What a blocking section may take beyond the timeout: Health's diagnosis (at most 5.5 s) and slack.
constexpr std::chrono::milliseconds kMargin{8000};

class C10dWorld final : public World {
 public:
  C10dWorld(LaunchEnv env, WorldOptions options);
  ~C10dWorld() override;

  int rank() const override { return env_.rank; }
  int size() const override { return env_.world_size; }
  int local_rank() const override { return env_.local_rank; }
  void attach_parameters(const std::vector<at::Tensor>& params) override;
  void sync_next_backward(bool sync) override {
    if (buckets_) buckets_->arm(sync);  // without hooks every gradient is reduced in sync_gradients() anyway
  }
  void sync_gradients(const std::vector<at::Tensor>& params) override;
  void verify_parameters(const std::vector<std::string>& names, const std::vector<at::Tensor>& params) override;
  std::vector<double> sum(std::vector<double> values) override;
  void barrier() override;

 private:
  template <class F>
  void guarded(const std::string& what, F f);
  // "distributed: rank R: <what> blocked for more than N s (...)": the Watchdog's line.
  std::string overrun(const std::string& what, const std::string& cause) const;
  void wait(const std::string& what, c10::intrusive_ptr<c10d::Work> work) {
    guarded(what, [&] { work->wait(); });
  }
  GradBuckets& buckets_for(const std::vector<at::Tensor>& params);
  bool one_machine() const { return env_.local_world_size >= env_.world_size; }  // every rank on this one
  // A gradient bucket's all-reduce (GradBuckets::AllReduce): through shared memory or the backend.
  c10::intrusive_ptr<c10d::Work> allreduce(std::size_t bucket, at::Tensor& flat);

  LaunchEnv env_;
  WorldOptions options_;
  std::string address_;  // the store's, MASTER_ADDR:MASTER_PORT
  at::Device device_{at::kCPU};
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::Backend> backend_;
  std::unique_ptr<Health> health_;
  std::unique_ptr<ShmReduce> shm_;  // the gradient buckets' all-reduce when every rank is on this CPU
  std::unique_ptr<GradBuckets> buckets_;
  bool broken_ = false;
  // Last, so destroyed first: its thread may be asking health_ about a signal, and is joined before health_ goes.
  Watchdog watchdog_;
};

C10dWorld::C10dWorld(LaunchEnv env, WorldOptions options)
    : env_(std::move(env)),
      options_(std::move(options)),
      address_(env_.master_addr + ":" + std::to_string(env_.master_port)) {
  quiet_c10d_warnings();
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(env_.master_port);
  so.isServer = env_.rank == 0 && !env_.agent_store;
  so.numWorkers = env_.world_size;
  so.timeout = options_.timeout;
  so.multiTenant = true;
  const std::string unreachable = "the rendezvous store at " + address_ + " or a peer is unreachable";
  try {
    // Each step is bounded by the timeout on its own: connecting waits for the store's host to come up, and
    // the backend then waits for every rank to publish its address.
    {
      WatchdogSection section(watchdog_, options_.timeout + kMargin, overrun("rendezvous", unreachable));
      store_ = c10::make_intrusive<c10d::TCPStore>(env_.master_addr, so);
    }
    WatchdogSection section(watchdog_, options_.timeout + kMargin, overrun("connecting the ranks", unreachable));
    if (options_.device == "cuda") {
      device_ = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(env_.local_rank));
      backend_ = make_nccl(store_, env_.rank, env_.world_size, env_.local_rank, options_.timeout);
    } else if (options_.device == "cpu") {
      backend_ = make_gloo(store_, env_.rank, env_.world_size, options_.timeout, env_.master_addr,
                           one_machine());
    } else {
      throw Error("--device " + options_.device + ": expected cpu or cuda");
    }
    health_ = std::make_unique<Health>(store_, env_.rank, env_.world_size, address_);
    if (options_.stop_signal)
      watchdog_.on_signal({options_.stop_signal, [this] {
                             Health::Finding f = health_->diagnose();
                             if (!f.peer_lost) return std::string();
                             return "distributed: rank " + std::to_string(env_.rank) + ": stopped by signal " +
                                    std::to_string(options_.stop_signal()) + " while waiting for the other ranks: " +
                                    f.line + "; the checkpoints already written stay whole";
                           }});
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string cause = e.what();
    throw Error("rank " + std::to_string(env_.rank) + " of " + std::to_string(env_.world_size) + " (" + env_.source +
                "): rendezvous at " + address_ + " failed within " + std::to_string(options_.timeout.count()) +
                " ms: " + cause.substr(0, cause.find('\n')));
  }
}

C10dWorld::~C10dWorld() {
  buckets_.reset();
  if (broken_) (void)backend_.release();  // abandoned on purpose: see the top of this file
}

std::string C10dWorld::overrun(const std::string& what, const std::string& cause) const {
  auto seconds = [](std::chrono::milliseconds t) { return std::to_string((t.count() + 999) / 1000); };
  return "distributed: rank " + std::to_string(env_.rank) + ": " + what + " blocked for more than " +
         seconds(options_.timeout + kMargin) + " s (the timeout, " + seconds(options_.timeout) + " s, + " +
         seconds(kMargin) + "): " + cause + "; stopping";
}

template <class F>
void C10dWorld::guarded(const std::string& what, F f) {
  if (broken_) throw Error("distributed: " + what + " after an earlier collective failed");
  health_->entered_collective();
  WatchdogSection section(watchdog_, options_.timeout + kMargin,
                          overrun(what, "no answer from the other ranks or the rendezvous store at " + address_));
  try {
    f();
  } catch (const std::exception& e) {
    broken_ = true;
    std::string cause = e.what();
    cause = cause.substr(0, cause.find('\n'));
    throw Error("distributed: rank " + std::to_string(env_.rank) + ": " + what + " failed: " + health_->diagnose().line +
                " [" + cause + "]");
  }
}

c10::intrusive_ptr<c10d::Work> C10dWorld::allreduce(std::size_t bucket, at::Tensor& flat) {
  if (shm_) {
    shm_->average(bucket, flat);
    return {};  // done, and averaged
  }
  std::vector<at::Tensor> one{flat};
  return backend_->allreduce(one);
}

GradBuckets& C10dWorld::buckets_for(const std::vector<at::Tensor>& params) {
  if (buckets_) return *buckets_;
  buckets_ = std::make_unique<GradBuckets>(params, options_.bucket_bytes, env_.world_size,
                                           [this](std::size_t b, at::Tensor& flat) { return allreduce(b, flat); });
  if (device_.is_cpu() && one_machine() && !env_.gloo_gradients) {
    WatchdogSection section(watchdog_, options_.timeout + kMargin,
                            overrun("setting up the shared-memory gradient all-reduce", "a rank did not answer"));
    std::string why_not;
    shm_ = ShmReduce::create(*store_, env_.rank, env_.world_size, buckets_->bucket_bytes(), options_.timeout, why_not);
    if (shm_) buckets_->place([this](std::size_t b, const at::Tensor& flat) { return shm_->slot(b, flat); });
    else if (env_.rank == 0) note("the gradient all-reduce goes over Gloo: " + why_not);
  }
  return *buckets_;
}

void C10dWorld::attach_parameters(const std::vector<at::Tensor>& params) {
  for (const auto& members : bucket_layout(params, options_.bucket_bytes)) {
    std::vector<at::Tensor> flat{flatten(params, members)};
    c10d::BroadcastOptions o;
    o.rootRank = 0;
    wait("broadcasting parameters from rank 0", backend_->broadcast(flat, o));
    unflatten(flat[0], params, members);
  }
  // The shared-memory sum is this CPU's own work, nothing to overlap with backward: started from backward's
  // hooks it would only wait there for the slowest rank, outside the watchdog's sections.
  GradBuckets& buckets = buckets_for(params);
  if (!shm_) buckets.install_hooks();
}

void C10dWorld::sync_gradients(const std::vector<at::Tensor>& params) {
  GradBuckets& b = buckets_for(params);
  guarded("gradient all-reduce", [&] { b.finish(); });
}

std::vector<double> C10dWorld::sum(std::vector<double> values) {
  std::vector<at::Tensor> t{at::tensor(values, at::kDouble).to(device_)};
  wait("metric all-reduce", backend_->allreduce(t));
  at::Tensor cpu = t[0].cpu();
  return std::vector<double>(cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel());
}

void C10dWorld::verify_parameters(const std::vector<std::string>& names, const std::vector<at::Tensor>& params) {
  at::Tensor local = fingerprints(params);
  std::vector<at::Tensor> lo{local.clone()}, hi{local.clone()};
  c10d::AllreduceOptions min, max;
  min.reduceOp = c10d::ReduceOp::MIN;
  max.reduceOp = c10d::ReduceOp::MAX;
  wait("parameter check", backend_->allreduce(lo, min));
  wait("parameter check", backend_->allreduce(hi, max));
  at::Tensor differs = lo[0].ne(hi[0]).any(1).cpu();
  std::string bad;
  for (std::int64_t k = 0; k < differs.numel(); ++k)
    if (differs[k].item<bool>()) bad += (bad.empty() ? "" : ", ") + names.at(static_cast<std::size_t>(k));
  if (!bad.empty()) throw Error("distributed: parameters differ between ranks: " + bad);
}

void C10dWorld::barrier() { wait("barrier", backend_->barrier()); }

}  // namespace

std::unique_ptr<World> from_environment(const WorldOptions& options) {
  LaunchEnv env = launch_env();
  if (env.world_size == 1) return single_process();
  return std::make_unique<C10dWorld>(std::move(env), options);
}

std::unique_ptr<World> c10d_world(const WorldOptions& options) {
  return std::make_unique<C10dWorld>(launch_env(), options);
}

}  // namespace bertforge::dist
