// snapheap: a managed heap with precise mark-and-sweep collection, strong and weak handles, and
// snapshots that record weak handles as tombstones or target IDs. Everything in one include.
#pragma once

#include "snapheap/allocator.hpp"
#include "snapheap/archive.hpp"
#include "snapheap/config.hpp"
#include "snapheap/errors.hpp"
#include "snapheap/handles.hpp"
#include "snapheap/heap.hpp"
#include "snapheap/inspect.hpp"
#include "snapheap/object.hpp"
#include "snapheap/registry.hpp"
#include "snapheap/snapshot.hpp"
#include "snapheap/tracer.hpp"
#include "snapheap/weak_map.hpp"
