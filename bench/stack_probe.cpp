// snapheap_stack_probe: how long a linked chain Boost.Serialization and cereal can save and load
// before they overflow an 8 MiB stack (the Linux default), for the report. Both recurse once per
// link; snapheap does not (bench: save/chain, load/chain at 10^6 and 10^7 nodes).
//
//   snapheap_stack_probe [--stack-mib 8] [--limit 1000000] > stack.json
//
// Each attempt runs in a child process (fork), on a thread with exactly that stack; a crash
// (SIGSEGV) in the child is the overflow. A binary search finds the longest chain that works.
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "baselines.hpp"
#include "types.hpp"

namespace {

using snapbench::SNode;

enum class Lib { boost, cereal };
enum class Op { save, load };

struct Job {
  Lib lib;
  Op op;
  std::int64_t n;
  std::vector<char> bytes;
  std::size_t size = 0;
};

void save_chain(Job& job, const std::shared_ptr<SNode>& head) {
  job.size = job.lib == Lib::boost ? snapbench::boost_save(head, job.bytes) : snapbench::cereal_save(head, job.bytes);
}

void* run_save(void* arg) {
  auto& job = *static_cast<Job*>(arg);
  std::shared_ptr<SNode> head = snapbench::build_shared_chain(job.n);
  save_chain(job, head);
  snapbench::drop_chain(head);
  return nullptr;
}

void* run_load(void* arg) {
  auto& job = *static_cast<Job*>(arg);
  std::shared_ptr<SNode> head;
  if (job.lib == Lib::boost) snapbench::boost_load(job.bytes, job.size, head);
  else snapbench::cereal_load(job.bytes, job.size, head);
  snapbench::drop_chain(head);
  return nullptr;
}

void run_on_stack(void* (*fn)(void*), Job& job, std::size_t stack_bytes) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_bytes);
  pthread_t thread;
  if (pthread_create(&thread, &attr, fn, &job) != 0) std::_Exit(3);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

// True if the operation completes on a chain of n nodes with `stack_bytes` of stack.
bool works(Lib lib, Op op, std::int64_t n, std::size_t stack_bytes) {
  const pid_t child = fork();
  if (child < 0) std::exit(2);
  if (child == 0) {
    Job job{lib, op, n, {}, 0};
    if (op == Op::load) run_on_stack(run_save, job, std::size_t{1} << 30);  // make the archive
    run_on_stack(op == Op::save ? run_save : run_load, job, stack_bytes);
    std::_Exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The longest chain (to about 1%) that works, searching up to `limit`.
std::int64_t longest(Lib lib, Op op, std::size_t stack_bytes, std::int64_t limit) {
  std::int64_t good = 0, bad = limit;
  if (works(lib, op, limit, stack_bytes)) return limit;
  while (bad - good > std::max<std::int64_t>(good / 100, 10)) {
    const std::int64_t mid = good + (bad - good) / 2;
    (works(lib, op, mid, stack_bytes) ? good : bad) = mid;
  }
  return good;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t stack_mib = 8;
  std::int64_t limit = 1'000'000;  // the longest chain tried (--limit: CI's bench stage asks less)
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--stack-mib") == 0 && i + 1 < argc) stack_mib = std::strtoul(argv[++i], nullptr, 10);
    else if (std::strcmp(argv[i], "--limit") == 0 && i + 1 < argc) limit = std::strtoll(argv[++i], nullptr, 10);
  }
  const std::size_t stack_bytes = stack_mib << 20;
  const std::int64_t kLimit = std::max<std::int64_t>(limit, 100);
  const char* libs[] = {"boost", "cereal"};
  const char* ops[] = {"save", "load"};
  std::printf("{\n  \"stack_bytes\": %zu,\n  \"search_limit\": %lld,\n  \"longest_chain\": {", stack_bytes,
              static_cast<long long>(kLimit));
  bool first = true;
  for (int l = 0; l < 2; ++l) {
    for (int o = 0; o < 2; ++o) {
      const std::int64_t n = longest(static_cast<Lib>(l), static_cast<Op>(o), stack_bytes, kLimit);
      std::printf("%s\n    \"%s_%s\": %lld", first ? "" : ",", libs[l], ops[o], static_cast<long long>(n));
      std::fflush(stdout);
      first = false;
    }
  }
  std::printf("\n  }\n}\n");
  return 0;
}
