#include "bertforge/dist/world.h"

namespace bertforge::dist {

namespace {
// One process: its gradients and values are the averages already, so the collectives have nothing to do.
class SingleProcess final : public World {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void attach_parameters(const std::vector<at::Tensor>&) override {}
  void sync_next_backward(bool) override {}
  void sync_gradients(const std::vector<at::Tensor>&) override {}
  void verify_parameters(const std::vector<std::string>&, const std::vector<at::Tensor>&) override {}
  std::vector<double> sum(std::vector<double> values) override { return values; }
  void barrier() override {}
};
}  // namespace

std::unique_ptr<World> single_process() { return std::make_unique<SingleProcess>(); }

}  // namespace bertforge::dist
