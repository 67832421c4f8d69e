// Boost.Serialization and cereal, as a C++ programmer would use them for the same data, writing
// to and reading from memory through the streambufs in support.hpp (never std::stringstream).
// Both save a std::weak_ptr by locking it and saving the std::shared_ptr, and both recurse once
// per nested pointer: a long chain overflows the stack.
#pragma once

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/shared_ptr.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/serialization/weak_ptr.hpp>
#include <cereal/archives/binary.hpp>
#include <cereal/types/memory.hpp>
#include <cereal/types/vector.hpp>
#include <cstddef>
#include <istream>
#include <ostream>
#include <vector>

#include "support.hpp"

namespace snapbench {

/// Saves `value` into `storage` (reused; grows as needed); returns the bytes written.
template <class T>
std::size_t boost_save(const T& value, std::vector<char>& storage) {
  VectorOutBuf out(storage);
  {
    boost::archive::binary_oarchive archive(out);
    archive << value;
  }
  return out.size();
}

template <class T>
void boost_load(const std::vector<char>& storage, std::size_t size, T& value) {
  MemoryInBuf in(storage.data(), size);
  boost::archive::binary_iarchive archive(in);
  archive >> value;
}

template <class T>
std::size_t cereal_save(const T& value, std::vector<char>& storage) {
  VectorOutBuf out(storage);
  {
    std::ostream stream(&out);
    cereal::BinaryOutputArchive archive(stream);
    archive(value);
  }
  return out.size();
}

template <class T>
void cereal_load(const std::vector<char>& storage, std::size_t size, T& value) {
  MemoryInBuf in(storage.data(), size);
  std::istream stream(&in);
  cereal::BinaryInputArchive archive(stream);
  archive(value);
}

}  // namespace snapbench
