// icefloe for C++17: a header-only layer over the C API (icefloe.h).
//
// RAII handles (move-only; the destructor drops what the C API made),
// templates over the payload type (Publisher<Pose>, Publisher<Slice<uint8_t>>),
// slices as a small read-only or writable span, range-for over received
// samples. Errors are exceptions (icefloe::Error, with the C code and
// icefloe's sentence): constructors that open services and ports can fail,
// C++17 has no std::expected, and a failed loan or send is exceptional on
// the message path too (the hot path itself makes no allocation and throws
// nothing while it succeeds).
#ifndef ICEFLOE_HPP
#define ICEFLOE_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "icefloe.h"

namespace icefloe {

/// What a failed call threw: the C API's code and its sentence.
class Error : public std::runtime_error {
  public:
    Error(icefloe_error code, const char *what_call)
        : std::runtime_error(std::string(what_call) + ": " + icefloe_error_string(static_cast<int>(code))),
          code_(code) {}
    icefloe_error code() const noexcept { return code_; }

  private:
    icefloe_error code_;
};

namespace detail {
inline void check(icefloe_error e, const char *what) {
    if (e != ICEFLOE_OK) throw Error(e, what);
}
}  // namespace detail

/// The name the Rust side gives a type (its ZeroCopySend name). Specialize
/// it for your structs, or use ICEFLOE_TYPE_NAME(Pose, "Pose").
template <class T>
struct TypeName;
#define ICEFLOE_TYPE_NAME(T, NAME)                       \
    template <>                                          \
    struct icefloe::TypeName<T> {                        \
        static constexpr const char *value = NAME;       \
    }
template <> struct TypeName<std::uint8_t> { static constexpr const char *value = "u8"; };
template <> struct TypeName<std::uint16_t> { static constexpr const char *value = "u16"; };
template <> struct TypeName<std::uint32_t> { static constexpr const char *value = "u32"; };
template <> struct TypeName<std::uint64_t> { static constexpr const char *value = "u64"; };
template <> struct TypeName<std::int8_t> { static constexpr const char *value = "i8"; };
template <> struct TypeName<std::int16_t> { static constexpr const char *value = "i16"; };
template <> struct TypeName<std::int32_t> { static constexpr const char *value = "i32"; };
template <> struct TypeName<std::int64_t> { static constexpr const char *value = "i64"; };
template <> struct TypeName<float> { static constexpr const char *value = "f32"; };
template <> struct TypeName<double> { static constexpr const char *value = "f64"; };

/// A payload that is a slice of E, its length chosen per loan.
template <class E>
struct Slice {
    using Element = E;
};

/// No user header.
struct NoHeader {};

namespace detail {
template <class T>
struct Payload {  // a fixed-size type
    using Element = T;
    static constexpr bool is_slice = false;
};
template <class E>
struct Payload<Slice<E>> {
    using Element = E;
    static constexpr bool is_slice = true;
};
template <class T>
icefloe_type describe() {
    using E = typename Payload<T>::Element;
    static_assert(std::is_trivially_copyable<E>::value, "payloads are plain bytes in shared memory");
    return icefloe_type{TypeName<E>::value, static_cast<uint32_t>(sizeof(E)), static_cast<uint32_t>(alignof(E)),
                        Payload<T>::is_slice};
}
template <class H>
icefloe_type describe_header() {
    if constexpr (std::is_same<H, NoHeader>::value) {
        return icefloe_type{nullptr, 0, 1, false};
    } else {
        static_assert(std::is_trivially_copyable<H>::value, "headers are plain bytes in shared memory");
        return icefloe_type{TypeName<H>::value, static_cast<uint32_t>(sizeof(H)), static_cast<uint32_t>(alignof(H)),
                            false};
    }
}
}  // namespace detail

/// A view of `size()` elements (std::span's read part, for C++17).
template <class E>
class Span {
  public:
    Span(E *data, std::size_t size) : data_(data), size_(size) {}
    E *data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    E &operator[](std::size_t i) const noexcept { return data_[i]; }
    E *begin() const noexcept { return data_; }
    E *end() const noexcept { return data_ + size_; }

  private:
    E *data_;
    std::size_t size_;
};

/// A node: owns ports, in one prefix.
class Node {
  public:
    explicit Node(const char *name = nullptr, const char *prefix = nullptr, bool handle_signals = true) {
        icefloe_node_options o = icefloe_node_options_default();
        o.name = name;
        o.prefix = prefix;
        o.handle_signals = handle_signals;
        detail::check(icefloe_node_create(&o, &node_), "creating the node");
    }
    Node(Node &&o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
    Node &operator=(Node &&o) noexcept {
        std::swap(node_, o.node_);
        return *this;
    }
    Node(const Node &) = delete;
    Node &operator=(const Node &) = delete;
    ~Node() { icefloe_node_drop(node_); }

    std::uint64_t id() const { return icefloe_node_id(node_); }
    /// Sleeps up to `d`; false once SIGINT or SIGTERM arrived.
    bool wait(std::chrono::nanoseconds d) const {
        return icefloe_node_wait(node_, static_cast<std::uint64_t>(d.count())) == ICEFLOE_OK;
    }
    const icefloe_node *raw() const noexcept { return node_; }

  private:
    icefloe_node *node_ = nullptr;
};

enum class Open { Open = ICEFLOE_OPEN, Create = ICEFLOE_CREATE, OpenOrCreate = ICEFLOE_OPEN_OR_CREATE };

/// QoS of a publish-subscribe service (0: icefloe's default).
struct PubSubOptions {
    std::uint32_t max_slice_len = 0;
    std::uint32_t max_publishers = 0;
    std::uint32_t max_subscribers = 0;
    std::uint32_t subscriber_max_buffer_size = 0;
    std::uint32_t subscriber_max_borrowed_samples = 0;
    std::uint32_t history_size = 0;
    std::optional<bool> enable_safe_overflow;
};

template <class T, class H>
class Publisher;
template <class T, class H>
class Subscriber;

/// A publish-subscribe service of payload T (a type, or Slice<E>) and
/// user header H.
template <class T, class H = NoHeader>
class PublishSubscribe {
  public:
    PublishSubscribe(const Node &node, const char *name, Open mode = Open::OpenOrCreate,
                     const PubSubOptions &qos = {}) {
        icefloe_pubsub_options o = icefloe_pubsub_options_default();
        o.payload = detail::describe<T>();
        o.user_header = detail::describe_header<H>();
        o.max_slice_len = qos.max_slice_len;
        o.max_publishers = qos.max_publishers;
        o.max_subscribers = qos.max_subscribers;
        o.subscriber_max_buffer_size = qos.subscriber_max_buffer_size;
        o.subscriber_max_borrowed_samples = qos.subscriber_max_borrowed_samples;
        o.history_size = qos.history_size;
        o.enable_safe_overflow = qos.enable_safe_overflow ? (*qos.enable_safe_overflow ? 1 : 0) : -1;
        detail::check(icefloe_pubsub_service(node.raw(), name, &o, static_cast<icefloe_open_mode>(mode), &service_),
                      "opening the service");
    }
    PublishSubscribe(PublishSubscribe &&o) noexcept : service_(std::exchange(o.service_, nullptr)) {}
    PublishSubscribe &operator=(PublishSubscribe &&o) noexcept {
        std::swap(service_, o.service_);
        return *this;
    }
    PublishSubscribe(const PublishSubscribe &) = delete;
    PublishSubscribe &operator=(const PublishSubscribe &) = delete;
    ~PublishSubscribe() { icefloe_pubsub_drop(service_); }

    Publisher<T, H> publisher(icefloe_allocation_strategy strategy = ICEFLOE_POWER_OF_TWO,
                              std::uint32_t initial_max_slice_len = 0) const {
        return Publisher<T, H>(service_, strategy, initial_max_slice_len);
    }
    Subscriber<T, H> subscriber() const { return Subscriber<T, H>(service_); }

  private:
    icefloe_pubsub *service_ = nullptr;
};

/// A loaned sample: write it, then send() it; dropped unsent, it goes back.
template <class T, class H>
class SampleMut {
    using E = typename detail::Payload<T>::Element;

  public:
    SampleMut(SampleMut &&o) noexcept
        : publisher_(std::exchange(o.publisher_, nullptr)), loan_(o.loan_), payload_(o.payload_), header_(o.header_),
          len_(o.len_) {}
    SampleMut &operator=(SampleMut &&o) noexcept {
        std::swap(publisher_, o.publisher_);
        std::swap(loan_, o.loan_);
        std::swap(payload_, o.payload_);
        std::swap(header_, o.header_);
        std::swap(len_, o.len_);
        return *this;
    }
    SampleMut(const SampleMut &) = delete;
    SampleMut &operator=(const SampleMut &) = delete;
    ~SampleMut() {
        if (publisher_) icefloe_publisher_discard(publisher_, loan_);
    }

    /// The slice to fill (Slice<E> payloads).
    template <class U = T, class = std::enable_if_t<detail::Payload<U>::is_slice>>
    Span<E> payload() noexcept {
        return Span<E>(reinterpret_cast<E *>(payload_), len_);
    }
    /// Writes the value (fixed-size payloads).
    template <class U = T, class = std::enable_if_t<!detail::Payload<U>::is_slice>>
    void write(const U &value) noexcept {
        std::memcpy(payload_, &value, sizeof(U));
    }
    /// The user header, to write.
    template <class G = H, class = std::enable_if_t<!std::is_same<G, NoHeader>::value>>
    void header(const G &h) noexcept {
        std::memcpy(header_, &h, sizeof(G));
    }
    /// Sends to every connected subscriber; returns how many.
    std::size_t send() {
        std::size_t delivered = 0;
        detail::check(icefloe_publisher_send(std::exchange(publisher_, nullptr), loan_, &delivered), "sending");
        return delivered;
    }

  private:
    friend class Publisher<T, H>;
    SampleMut(icefloe_publisher *p, icefloe_loan l, std::uint8_t *payload, std::uint8_t *header, std::size_t len)
        : publisher_(p), loan_(l), payload_(payload), header_(header), len_(len) {}
    icefloe_publisher *publisher_;
    icefloe_loan loan_;
    std::uint8_t *payload_;
    std::uint8_t *header_;
    std::size_t len_;
};

template <class T, class H>
class Publisher {
  public:
    Publisher(Publisher &&o) noexcept : publisher_(std::exchange(o.publisher_, nullptr)) {}
    Publisher &operator=(Publisher &&o) noexcept {
        std::swap(publisher_, o.publisher_);
        return *this;
    }
    Publisher(const Publisher &) = delete;
    Publisher &operator=(const Publisher &) = delete;
    ~Publisher() { icefloe_publisher_drop(publisher_); }

    /// Loans `len` elements (1 for a fixed-size payload).
    SampleMut<T, H> loan(std::size_t len = 1) {
        icefloe_loan l{};
        std::uint8_t *payload = nullptr;
        std::uint8_t *header = nullptr;
        detail::check(icefloe_publisher_loan(publisher_, len, &l, &payload, &header), "loaning");
        return SampleMut<T, H>(publisher_, l, payload, header, len);
    }

  private:
    friend class PublishSubscribe<T, H>;
    Publisher(icefloe_pubsub *s, icefloe_allocation_strategy strategy, std::uint32_t initial) {
        icefloe_publisher_options o = icefloe_publisher_options_default();
        o.allocation_strategy = strategy;
        o.initial_max_slice_len = initial;
        detail::check(icefloe_publisher_create(s, &o, &publisher_), "creating the publisher");
    }
    icefloe_publisher *publisher_ = nullptr;
};

/// A received sample, read in place; returned to its publisher when dropped.
template <class T, class H>
class Sample {
    using E = typename detail::Payload<T>::Element;

  public:
    Sample(Sample &&o) noexcept : subscriber_(std::exchange(o.subscriber_, nullptr)), s_(o.s_) {}
    Sample &operator=(Sample &&o) noexcept {
        std::swap(subscriber_, o.subscriber_);
        std::swap(s_, o.s_);
        return *this;
    }
    Sample(const Sample &) = delete;
    Sample &operator=(const Sample &) = delete;
    ~Sample() {
        if (subscriber_) icefloe_subscriber_release(subscriber_, s_);
    }

    /// The slice (Slice<E> payloads).
    template <class U = T, class = std::enable_if_t<detail::Payload<U>::is_slice>>
    Span<const E> payload() const noexcept {
        return Span<const E>(reinterpret_cast<const E *>(s_.payload), s_.len);
    }
    /// The value (fixed-size payloads).
    template <class U = T, class = std::enable_if_t<!detail::Payload<U>::is_slice>>
    const U &value() const noexcept {
        return *reinterpret_cast<const U *>(s_.payload);
    }
    /// The user header.
    template <class G = H, class = std::enable_if_t<!std::is_same<G, NoHeader>::value>>
    const G &header() const noexcept {
        return *reinterpret_cast<const G *>(s_.header);
    }
    std::uint64_t origin() const noexcept { return s_.origin; }

  private:
    friend class Subscriber<T, H>;
    Sample(icefloe_subscriber *sub, icefloe_sample s) : subscriber_(sub), s_(s) {}
    icefloe_subscriber *subscriber_;
    icefloe_sample s_;
};

template <class T, class H>
class Subscriber {
  public:
    Subscriber(Subscriber &&o) noexcept : subscriber_(std::exchange(o.subscriber_, nullptr)) {}
    Subscriber &operator=(Subscriber &&o) noexcept {
        std::swap(subscriber_, o.subscriber_);
        return *this;
    }
    Subscriber(const Subscriber &) = delete;
    Subscriber &operator=(const Subscriber &) = delete;
    ~Subscriber() { icefloe_subscriber_drop(subscriber_); }

    /// The next sample, waiting up to `timeout` (zero: not at all).
    std::optional<Sample<T, H>> receive(std::chrono::nanoseconds timeout = std::chrono::nanoseconds(0)) {
        icefloe_sample s{};
        detail::check(icefloe_subscriber_receive(subscriber_, static_cast<std::uint64_t>(timeout.count()), &s),
                      "receiving");
        if (s.id == 0) return std::nullopt;
        return Sample<T, H>(subscriber_, s);
    }

    /// Every sample waiting now, for range-for: `for (auto s : sub.samples())`.
    class Samples {
      public:
        class iterator {
          public:
            explicit iterator(Subscriber *s) : sub_(s) { next(); }
            iterator() = default;
            Sample<T, H> operator*() { return std::move(*current_); }
            iterator &operator++() {
                next();
                return *this;
            }
            bool operator!=(const iterator &o) const { return current_.has_value() != o.current_.has_value(); }

          private:
            void next() { current_ = sub_ ? sub_->receive() : std::nullopt; }
            Subscriber *sub_ = nullptr;
            std::optional<Sample<T, H>> current_;
        };
        explicit Samples(Subscriber *s) : sub_(s) {}
        iterator begin() { return iterator(sub_); }
        iterator end() { return iterator(); }

      private:
        Subscriber *sub_;
    };
    Samples samples() { return Samples(this); }

  private:
    friend class PublishSubscribe<T, H>;
    explicit Subscriber(icefloe_pubsub *s) {
        detail::check(icefloe_subscriber_create(s, &subscriber_), "creating the subscriber");
    }
    icefloe_subscriber *subscriber_ = nullptr;
};

}  // namespace icefloe

#endif
