#include "support/small_stack.hpp"

#include <pthread.h>

#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>

namespace snapheap_test {

namespace {

struct ThreadJob {
  const std::function<void()>* fn;
  std::exception_ptr error;
};

void* thread_main(void* arg) {
  auto* job = static_cast<ThreadJob*>(arg);
  try {
    (*job->fn)();
  } catch (...) {
    job->error = std::current_exception();
  }
  return nullptr;
}

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string(what) + ": " + std::strerror(rc));
}

}  // namespace

void run_with_stack(std::size_t stack_bytes, const std::function<void()>& fn) {
  pthread_attr_t attr;
  check(pthread_attr_init(&attr), "pthread_attr_init");
  ThreadJob job{&fn, nullptr};
  pthread_t thread{};
  int rc = pthread_attr_setstacksize(&attr, stack_bytes);
  if (rc == 0) rc = pthread_create(&thread, &attr, &thread_main, &job);
  pthread_attr_destroy(&attr);
  check(rc, "creating a thread with a small stack");
  check(pthread_join(thread, nullptr), "pthread_join");
  if (job.error) std::rethrow_exception(job.error);
}

std::size_t current_thread_stack_bytes() {
  pthread_attr_t attr;
  check(pthread_getattr_np(pthread_self(), &attr), "pthread_getattr_np");
  std::size_t size = 0;
  const int rc = pthread_attr_getstacksize(&attr, &size);
  pthread_attr_destroy(&attr);
  check(rc, "pthread_attr_getstacksize");
  return size;
}

}  // namespace snapheap_test
