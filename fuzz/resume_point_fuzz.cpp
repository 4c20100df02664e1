// bertforge_state.json (train/trainer.h load_resume_point): a resume point that loads survives a round trip.
#include "bertforge/train/resume_point.h"
#include "harness.h"

using namespace bertforge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string dir = fuzz::fresh_dir(), path = dir + "/bertforge_state.json";
  fuzz::write_file(path, {reinterpret_cast<const char*>(data), size});
  train::ResumePoint p;
  if (!fuzz::parses([&] { p = train::load_resume_point(path); }, path)) return 0;
  train::save_resume_point(dir + "/again.json", p);
  train::ResumePoint q = train::load_resume_point(dir + "/again.json");
  if (q.phase != p.phase || q.phase_start_step != p.phase_start_step || q.loader.epoch != p.loader.epoch ||
      q.loader.batch != p.loader.batch)
    fuzz::finding("resume point changes in a round trip");
  return 0;
}
