// Strong, Member and Weak: one template test for what they share, then what each does alone
// (Strong's root counting, conversions between kinds, casts).
#include <catch2/catch.hpp>
#include <snapheap/heap.hpp>

#include <compare>
#include <functional>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "support/nodes.hpp"

using snapheap::Heap;
using snapheap::HeapOptions;
using snapheap::Member;
using snapheap::Object;
using snapheap::Strong;
using snapheap::Weak;
using snapheap_test::Animal;
using snapheap_test::Bird;
using snapheap_test::Dog;
using snapheap_test::Node;

namespace {

struct StrongKind {
  template <class T>
  using handle = Strong<T>;
};
struct MemberKind {
  template <class T>
  using handle = Member<T>;
};
struct WeakKind {
  template <class T>
  using handle = Weak<T>;
};

template <class H>
inline constexpr bool kIsWeak = false;
template <class T>
inline constexpr bool kIsWeak<Weak<T>> = true;

/// The object a handle points at (nullptr if none or, for Weak, if it expired).
template <class H>
const Object* target(const H& h) {
  if constexpr (kIsWeak<H>) return h.lock().get();
  else return h.get();
}

template <class H>
bool is_empty(const H& h) {
  if constexpr (kIsWeak<H>) return h.empty();
  else return !h;
}

}  // namespace

TEMPLATE_TEST_CASE("every handle kind: empty default, copy, move, compare, convert, hash", "[handles]",
                   StrongKind, MemberKind, WeakKind) {
  using HNode = typename TestType::template handle<Node>;
  using HDog = typename TestType::template handle<Dog>;
  using HAnimal = typename TestType::template handle<Animal>;
  using HObject = typename TestType::template handle<Object>;

  Heap heap;
  // Host Strongs keep the targets alive whatever the handle kind under test.
  const Strong<Node> a = heap.make<Node>(1);
  const Strong<Node> b = heap.make<Node>(2);
  const Strong<Dog> dog = heap.make<Dog>();

  SECTION("a default-constructed or nullptr handle is empty") {
    const HNode none;
    const HNode null = nullptr;
    CHECK(is_empty(none));
    CHECK(is_empty(null));
    CHECK(target(none) == nullptr);
    CHECK(none == null);
    CHECK(none == nullptr);
    CHECK(none != HNode(a));
  }
  SECTION("a handle made from a Strong points at its object") {
    const HNode h = a;
    CHECK_FALSE(is_empty(h));
    CHECK(target(h) == a.get());
    CHECK(h != nullptr);
  }
  SECTION("a copy points at the same object and compares equal; the original is unchanged") {
    const HNode h = a;
    const HNode copy = h;
    CHECK(target(copy) == a.get());
    CHECK(target(h) == a.get());
    CHECK(copy == h);
    HNode assigned = b;
    assigned = h;
    CHECK(target(assigned) == a.get());
    CHECK(assigned == h);
  }
  SECTION("a moved-to handle takes the target") {
    HNode h = a;
    HNode moved = std::move(h);
    CHECK(target(moved) == a.get());
    HNode assigned = b;
    assigned = std::move(moved);
    CHECK(target(assigned) == a.get());
    static_assert(std::is_nothrow_move_constructible_v<HNode>);
    static_assert(std::is_nothrow_move_assignable_v<HNode>);
  }
  SECTION("handles to different objects compare unequal") {
    const HNode ha = a;
    const HNode hb = b;
    CHECK(ha != hb);
    CHECK_FALSE(ha == hb);
    CHECK(ha == HNode(a));
  }
  SECTION("a handle to a derived class converts to a handle to its base") {
    const HDog d = dog;
    const HAnimal animal = d;
    const HObject object = d;
    CHECK(target(animal) == static_cast<const Object*>(dog.get()));
    CHECK(target(object) == static_cast<const Object*>(dog.get()));
    HAnimal from_rvalue = HDog(dog);
    CHECK(target(from_rvalue) == target(animal));
    CHECK(from_rvalue == animal);
    static_assert(std::is_convertible_v<HDog, HAnimal>);
    static_assert(!std::is_convertible_v<HAnimal, HDog>, "no implicit base-to-derived conversion");
    static_assert(!std::is_convertible_v<typename TestType::template handle<Bird>, HDog>);
  }
  SECTION("std::hash makes handles usable in an unordered_set") {
    std::unordered_set<HNode> set;
    set.insert(HNode(a));
    set.insert(HNode(a));  // the same object again
    set.insert(HNode(b));
    CHECK(set.size() == 2);
    CHECK(set.count(HNode(a)) == 1);
    CHECK(set.count(HNode(b)) == 1);
    CHECK(set.count(HNode()) == 0);
    set.insert(HNode());
    CHECK(set.size() == 3);
    // Equal handles hash equal however they were made (here through a Weak and lock()), and
    // handles to different objects spread: 64 objects, 64 hashes.
    const std::hash<HNode> hash;
    const Strong<Node> relocked = Weak<Node>(a).lock();
    CHECK(hash(HNode(relocked)) == hash(HNode(a)));
    std::vector<Strong<Node>> many;
    std::unordered_set<std::size_t> hashes;
    for (int i = 0; i < 64; ++i) {
      many.push_back(heap.make<Node>(i));
      hashes.insert(hash(HNode(many.back())));
    }
    CHECK(hashes.size() == 64);
  }
  SECTION("a handle keeps its target across collections while the target lives") {
    const HNode h = a;
    heap.collect();
    heap.collect();
    CHECK(target(h) == a.get());
    CHECK(heap.verify().ok);
  }
}

TEST_CASE("handle sizes and copy costs are what the design promises", "[handles]") {
  STATIC_REQUIRE(sizeof(Member<Node>) == 8);
  // A Member's copies pass the write barrier, so it is not trivially copyable; it is still a
  // pointer that needs no destructor.
  STATIC_REQUIRE_FALSE(std::is_trivially_copyable_v<Member<Node>>);
  STATIC_REQUIRE(std::is_trivially_destructible_v<Member<Node>>);
  STATIC_REQUIRE(std::is_nothrow_copy_constructible_v<Member<Node>>);
  STATIC_REQUIRE(sizeof(Weak<Node>) == 16);
  STATIC_REQUIRE(std::is_trivially_copyable_v<Weak<Node>>);
  STATIC_REQUIRE(std::is_trivially_destructible_v<Weak<Node>>);
  STATIC_REQUIRE(sizeof(Strong<Node>) == sizeof(void*));
  STATIC_REQUIRE(std::is_nothrow_move_constructible_v<Strong<Node>>);
}

// ---- Strong: root counting -------------------------------------------------------------------------

TEST_CASE("copies of a Strong keep the object alive; it dies when the last is dropped", "[handles][strong][valgrind]") {
  Heap heap;
  Strong<Node> original = heap.make<Node>(1);
  const Weak<Node> weak = original;
  Strong<Node> copy1 = original;
  Strong<Node> copy2;
  copy2 = copy1;
  Strong<Object> as_base = original;  // a converting copy is a root too

  original.reset();
  heap.collect();
  CHECK_FALSE(weak.expired());
  copy1 = nullptr;
  heap.collect();
  CHECK_FALSE(weak.expired());
  copy2.reset();
  heap.collect();
  CHECK_FALSE(weak.expired());
  CHECK(as_base.get() == static_cast<Object*>(weak.lock().get()));
  as_base.reset();
  heap.collect();
  CHECK(weak.expired());
}

TEST_CASE("moving a Strong moves the root without adding one", "[handles][strong]") {
  Heap heap;
  Strong<Node> first = heap.make<Node>(1);
  const Weak<Node> weak = first;
  Strong<Node> second = std::move(first);
  CHECK_FALSE(first);  // NOLINT(bugprone-use-after-move): a moved-from Strong is empty
  Strong<Object> third = std::move(second);
  CHECK_FALSE(second);  // NOLINT(bugprone-use-after-move)
  Strong<Node> fourth;
  fourth = static_handle_cast<Node>(third);
  third = Strong<Object>();
  heap.collect();
  CHECK_FALSE(weak.expired());
  fourth.reset();  // the only root left: no stray count from the moves
  heap.collect();
  CHECK(weak.expired());
}

TEST_CASE("self-assignment and swap keep root counts right", "[handles][strong]") {
  Heap heap;
  Strong<Node> a = heap.make<Node>(1);
  Strong<Node> b = heap.make<Node>(2);
  const Weak<Node> wa = a;
  const Weak<Node> wb = b;
  Strong<Node>& alias = a;
  a = alias;
  a.swap(b);
  CHECK(a->value == 2);
  CHECK(b->value == 1);
  a.reset();
  heap.collect();
  CHECK_FALSE(wa.expired());
  CHECK(wb.expired());
  b.reset();
  heap.collect();
  CHECK(wa.expired());
}

TEST_CASE("a Member in host code does not root its target", "[handles][member]") {
  Heap heap;
  Member<Node> member = heap.make<Node>(1);  // the Strong make returned is gone
  const Weak<Node> weak = member;
  heap.collect();
  CHECK(weak.expired());  // `member` dangles now; it is never read again
}

// ---- conversions between kinds -------------------------------------------------------------------------

TEST_CASE("a Strong made from a Member roots the target on its own", "[handles][member]") {
  Heap heap;
  Weak<Node> child_weak;
  Strong<Node> child;
  {
    auto parent = heap.make<Node>(1);
    parent->next = heap.make<Node>(2);
    child_weak = parent->next;
    child = parent->next;  // Member -> Strong
  }
  heap.collect();  // the parent dies, the child is held by `child`
  CHECK(heap.stats().live_objects == 1);
  CHECK_FALSE(child_weak.expired());
  CHECK(child->value == 2);
  child.reset();
  heap.collect();
  CHECK(child_weak.expired());
}

TEST_CASE("Weak::lock() gives a Strong that roots the target", "[handles][weak][valgrind]") {
  Heap heap;
  Weak<Node> weak;
  { weak = heap.make<Node>(5); }
  Strong<Node> locked = weak.lock();  // not collected yet: still the same object
  REQUIRE(locked);
  heap.collect();
  CHECK_FALSE(weak.expired());
  CHECK(locked->value == 5);
  Weak<Object> as_base = weak;  // Weak<Derived> -> Weak<Base>
  CHECK(as_base.lock().get() == static_cast<Object*>(locked.get()));
  locked.reset();
  heap.collect();
  CHECK(weak.expired());
  CHECK(as_base.expired());
}

TEST_CASE("a Weak can be made from a Member, a Strong or a raw pointer of a managed object", "[handles][weak]") {
  Heap heap;
  auto parent = heap.make<Node>(1);
  parent->next = heap.make<Node>(2);
  const Weak<Node> from_member = parent->next;
  const Weak<Node> from_strong = parent;
  const Weak<Node> from_pointer(parent.get());
  CHECK(from_member.lock()->value == 2);
  CHECK(from_strong == from_pointer);
  CHECK(from_member != from_strong);
}

// ---- casts -------------------------------------------------------------------------------------------------

TEST_CASE("static_handle_cast and dynamic_handle_cast convert Strong handles down the hierarchy", "[handles][cast]") {
  Heap heap;
  Strong<Animal> animal = heap.make<Dog>();
  const Weak<Animal> weak = animal;

  Strong<Dog> dog = snapheap::static_handle_cast<Dog>(animal);
  REQUIRE(dog);
  CHECK(dog->legs == 4);
  CHECK(dog == animal);

  Strong<Dog> dyn_dog = snapheap::dynamic_handle_cast<Dog>(animal);
  CHECK(dyn_dog == animal);
  CHECK_FALSE(snapheap::dynamic_handle_cast<Bird>(animal));
  CHECK_FALSE(snapheap::dynamic_handle_cast<Node>(Strong<Object>(animal)));
  CHECK_FALSE(snapheap::static_handle_cast<Dog>(Strong<Animal>()));
  CHECK_FALSE(snapheap::dynamic_handle_cast<Dog>(Strong<Animal>()));

  // A cast result is a root of its own.
  Strong<Dog> survivor = snapheap::dynamic_handle_cast<Dog>(animal);
  animal.reset();
  dog.reset();
  dyn_dog.reset();
  heap.collect();
  CHECK_FALSE(weak.expired());
  survivor.reset();
  heap.collect();
  CHECK(weak.expired());
}

TEST_CASE("Strong and Member compare with each other and order by address", "[handles]") {
  Heap heap;
  auto a = heap.make<Node>(1);
  auto b = heap.make<Node>(2);
  const Member<Node> ma = a;
  CHECK(a == ma);
  CHECK_FALSE(b == ma);
  CHECK(((a < b) != (b < a)));
  CHECK((a < b) == std::less<const Node*>()(a.get(), b.get()));  // by address
  CHECK((a <=> Strong<Node>(ma)) == std::strong_ordering::equal);  // another handle, the same object
  CHECK((a <=> b) != std::strong_ordering::equal);
  CHECK((ma <=> Member<Node>(b)) == (a <=> b));
}
