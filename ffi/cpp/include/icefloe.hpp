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


/// QoS of a request-response service (0: icefloe's default).
struct RequestResponseOptions {
    std::uint32_t request_max_slice_len = 0;
    std::uint32_t response_max_slice_len = 0;
    std::uint32_t max_clients = 0;
    std::uint32_t max_servers = 0;
    std::uint32_t max_active_requests_per_client = 0;
    std::uint32_t max_response_buffer_size = 0;
    std::uint32_t max_borrowed_responses_per_pending_response = 0;
    std::optional<bool> enable_safe_overflow_for_responses;
};

template <class Req, class Res, class ReqH, class ResH>
class Client;
template <class Req, class Res, class ReqH, class ResH>
class Server;

/// A request-response service: requests of Req (header ReqH), responses of
/// Res (header ResH); each a type or Slice<E>.
template <class Req, class Res, class ReqH = NoHeader, class ResH = NoHeader>
class RequestResponse {
  public:
    RequestResponse(const Node &node, const char *name, Open mode = Open::OpenOrCreate,
                    const RequestResponseOptions &qos = {}) {
        icefloe_reqres_options o = icefloe_reqres_options_default();
        o.request = detail::describe<Req>();
        o.response = detail::describe<Res>();
        o.request_header = detail::describe_header<ReqH>();
        o.response_header = detail::describe_header<ResH>();
        o.request_max_slice_len = qos.request_max_slice_len;
        o.response_max_slice_len = qos.response_max_slice_len;
        o.max_clients = qos.max_clients;
        o.max_servers = qos.max_servers;
        o.max_active_requests_per_client = qos.max_active_requests_per_client;
        o.max_response_buffer_size = qos.max_response_buffer_size;
        o.max_borrowed_responses_per_pending_response = qos.max_borrowed_responses_per_pending_response;
        o.enable_safe_overflow_for_responses =
            qos.enable_safe_overflow_for_responses ? (*qos.enable_safe_overflow_for_responses ? 1 : 0) : -1;
        detail::check(icefloe_reqres_service(node.raw(), name, &o, static_cast<icefloe_open_mode>(mode), &service_),
                      "opening the service");
    }
    RequestResponse(RequestResponse &&o) noexcept : service_(std::exchange(o.service_, nullptr)) {}
    RequestResponse &operator=(RequestResponse &&o) noexcept {
        std::swap(service_, o.service_);
        return *this;
    }
    RequestResponse(const RequestResponse &) = delete;
    RequestResponse &operator=(const RequestResponse &) = delete;
    ~RequestResponse() { icefloe_reqres_drop(service_); }

    Client<Req, Res, ReqH, ResH> client(icefloe_allocation_strategy strategy = ICEFLOE_POWER_OF_TWO,
                                        std::uint32_t initial_max_slice_len = 0) const {
        return Client<Req, Res, ReqH, ResH>(service_, strategy, initial_max_slice_len);
    }
    Server<Req, Res, ReqH, ResH> server(icefloe_allocation_strategy strategy = ICEFLOE_POWER_OF_TWO,
                                        std::uint32_t initial_max_slice_len = 0) const {
        return Server<Req, Res, ReqH, ResH>(service_, strategy, initial_max_slice_len);
    }

  private:
    icefloe_reqres *service_ = nullptr;
};

namespace detail {
/// What received data (a response, a request) looks like to C++.
template <class T, class H>
class ReceivedView {
    using E = typename Payload<T>::Element;

  public:
    explicit ReceivedView(const icefloe_received &r) : r_(r) {}
    template <class U = T, class = std::enable_if_t<Payload<U>::is_slice>>
    Span<const E> payload() const noexcept {
        return Span<const E>(reinterpret_cast<const E *>(r_.payload), r_.len);
    }
    template <class U = T, class = std::enable_if_t<!Payload<U>::is_slice>>
    const U &value() const noexcept {
        return *reinterpret_cast<const U *>(r_.payload);
    }
    template <class G = H, class = std::enable_if_t<!std::is_same<G, NoHeader>::value>>
    const G &header() const noexcept {
        return *reinterpret_cast<const G *>(r_.header);
    }
    std::uint64_t origin() const noexcept { return r_.origin; }

  protected:
    icefloe_received r_;
};

/// What a loan (a request, a response) looks like to C++.
template <class T, class H>
class LoanView {
    using E = typename Payload<T>::Element;

  public:
    LoanView(icefloe_loan l, std::uint8_t *payload, std::uint8_t *header, std::size_t len)
        : loan_(l), payload_(payload), header_(header), len_(len) {}
    template <class U = T, class = std::enable_if_t<Payload<U>::is_slice>>
    Span<E> payload() noexcept {
        return Span<E>(reinterpret_cast<E *>(payload_), len_);
    }
    template <class U = T, class = std::enable_if_t<!Payload<U>::is_slice>>
    void write(const U &value) noexcept {
        std::memcpy(payload_, &value, sizeof(U));
    }
    template <class G = H, class = std::enable_if_t<!std::is_same<G, NoHeader>::value>>
    void header(const G &h) noexcept {
        std::memcpy(header_, &h, sizeof(G));
    }

  protected:
    icefloe_loan loan_;
    std::uint8_t *payload_;
    std::uint8_t *header_;
    std::size_t len_;
};
}  // namespace detail

/// A response received; returned when dropped (before its PendingResponse).
template <class Res, class ResH>
class Response : public detail::ReceivedView<Res, ResH> {
  public:
    Response(icefloe_client *c, const icefloe_received &r) : detail::ReceivedView<Res, ResH>(r), client_(c) {}
    Response(Response &&o) noexcept : detail::ReceivedView<Res, ResH>(o.r_), client_(std::exchange(o.client_, nullptr)) {}
    Response &operator=(Response &&o) noexcept {
        std::swap(this->r_, o.r_);
        std::swap(client_, o.client_);
        return *this;
    }
    Response(const Response &) = delete;
    Response &operator=(const Response &) = delete;
    ~Response() {
        if (client_) icefloe_client_release(client_, this->r_);
    }

  private:
    icefloe_client *client_;
};

/// A request's response stream. Dropping it stops listening (drop its
/// responses first: while one is held, the stream stays open until the
/// client goes).
template <class Res, class ResH>
class PendingResponse {
  public:
    PendingResponse(icefloe_client *c, icefloe_pending p) : client_(c), pending_(p) {}
    PendingResponse(PendingResponse &&o) noexcept : client_(std::exchange(o.client_, nullptr)), pending_(o.pending_) {}
    PendingResponse(const PendingResponse &) = delete;
    PendingResponse &operator=(const PendingResponse &) = delete;
    ~PendingResponse() {
        if (client_) icefloe_client_end(client_, pending_);
    }
    /// The next response, waiting up to `timeout`; nullopt when none came.
    std::optional<Response<Res, ResH>> receive(std::chrono::nanoseconds timeout = std::chrono::nanoseconds(0)) {
        icefloe_received r{};
        detail::check(icefloe_client_receive(client_, pending_, static_cast<std::uint64_t>(timeout.count()), &r,
                                             &connected_),
                      "receiving a response");
        if (r.id == 0) return std::nullopt;
        return Response<Res, ResH>(client_, r);
    }
    /// False once every server ended the stream and nothing is left.
    bool is_connected() const noexcept { return connected_; }

  private:
    icefloe_client *client_;
    icefloe_pending pending_;
    bool connected_ = true;
};

/// A loaned request: fill it, send() it; dropped unsent, it goes back.
template <class Req, class Res, class ReqH, class ResH>
class RequestMut : public detail::LoanView<Req, ReqH> {
  public:
    RequestMut(icefloe_client *c, icefloe_loan l, std::uint8_t *p, std::uint8_t *h, std::size_t len)
        : detail::LoanView<Req, ReqH>(l, p, h, len), client_(c) {}
    RequestMut(RequestMut &&o) noexcept
        : detail::LoanView<Req, ReqH>(o.loan_, o.payload_, o.header_, o.len_), client_(std::exchange(o.client_, nullptr)) {}
    RequestMut(const RequestMut &) = delete;
    RequestMut &operator=(const RequestMut &) = delete;
    ~RequestMut() {
        if (client_) icefloe_client_discard(client_, this->loan_);
    }
    PendingResponse<Res, ResH> send() {
        icefloe_pending p{};
        icefloe_client *c = std::exchange(client_, nullptr);
        detail::check(icefloe_client_send(c, this->loan_, &p), "sending the request");
        return PendingResponse<Res, ResH>(c, p);
    }

  private:
    icefloe_client *client_;
};

template <class Req, class Res, class ReqH, class ResH>
class Client {
  public:
    Client(Client &&o) noexcept : client_(std::exchange(o.client_, nullptr)) {}
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;
    ~Client() { icefloe_client_drop(client_); }
    RequestMut<Req, Res, ReqH, ResH> loan(std::size_t len = 1) {
        icefloe_loan l{};
        std::uint8_t *p = nullptr;
        std::uint8_t *h = nullptr;
        detail::check(icefloe_client_loan(client_, len, &l, &p, &h), "loaning a request");
        return RequestMut<Req, Res, ReqH, ResH>(client_, l, p, h, len);
    }

  private:
    friend class RequestResponse<Req, Res, ReqH, ResH>;
    Client(icefloe_reqres *s, icefloe_allocation_strategy strategy, std::uint32_t initial) {
        icefloe_port_options o = icefloe_port_options_default();
        o.allocation_strategy = strategy;
        o.initial_max_slice_len = initial;
        detail::check(icefloe_client_create(s, &o, &client_), "creating the client");
    }
    icefloe_client *client_ = nullptr;
};

/// A loaned response: fill it, send() it; dropped unsent, it goes back.
template <class Res, class ResH>
class ResponseMut : public detail::LoanView<Res, ResH> {
  public:
    ResponseMut(icefloe_server *s, icefloe_loan l, std::uint8_t *p, std::uint8_t *h, std::size_t len)
        : detail::LoanView<Res, ResH>(l, p, h, len), server_(s) {}
    ResponseMut(ResponseMut &&o) noexcept
        : detail::LoanView<Res, ResH>(o.loan_, o.payload_, o.header_, o.len_), server_(std::exchange(o.server_, nullptr)) {}
    ResponseMut(const ResponseMut &) = delete;
    ResponseMut &operator=(const ResponseMut &) = delete;
    ~ResponseMut() {
        if (server_) icefloe_server_discard(server_, this->loan_);
    }
    void send() { detail::check(icefloe_server_send(std::exchange(server_, nullptr), this->loan_), "sending the response"); }

  private:
    icefloe_server *server_;
};

/// A request received; dropping it ends its response stream.
template <class Req, class Res, class ReqH, class ResH>
class ActiveRequest : public detail::ReceivedView<Req, ReqH> {
  public:
    ActiveRequest(icefloe_server *s, const icefloe_received &r) : detail::ReceivedView<Req, ReqH>(r), server_(s) {}
    ActiveRequest(ActiveRequest &&o) noexcept
        : detail::ReceivedView<Req, ReqH>(o.r_), server_(std::exchange(o.server_, nullptr)) {}
    ActiveRequest(const ActiveRequest &) = delete;
    ActiveRequest &operator=(const ActiveRequest &) = delete;
    ~ActiveRequest() {
        if (server_) icefloe_server_end(server_, this->r_);
    }
    /// Loans a response of `len` elements (1 for a fixed-size response).
    ResponseMut<Res, ResH> loan(std::size_t len = 1) {
        icefloe_loan l{};
        std::uint8_t *p = nullptr;
        std::uint8_t *h = nullptr;
        detail::check(icefloe_server_loan(server_, this->r_, len, &l, &p, &h), "loaning a response");
        return ResponseMut<Res, ResH>(server_, l, p, h, len);
    }
    bool is_connected() const {
        bool c = false;
        detail::check(icefloe_server_is_connected(server_, this->r_, &c), "asking for the client");
        return c;
    }

  private:
    icefloe_server *server_;
};

template <class Req, class Res, class ReqH, class ResH>
class Server {
  public:
    Server(Server &&o) noexcept : server_(std::exchange(o.server_, nullptr)) {}
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;
    ~Server() { icefloe_server_drop(server_); }
    /// The next request, waiting up to `timeout`; nullopt when none came.
    std::optional<ActiveRequest<Req, Res, ReqH, ResH>> receive(
        std::chrono::nanoseconds timeout = std::chrono::nanoseconds(0)) {
        icefloe_received r{};
        detail::check(icefloe_server_receive(server_, static_cast<std::uint64_t>(timeout.count()), &r),
                      "receiving a request");
        if (r.id == 0) return std::nullopt;
        return ActiveRequest<Req, Res, ReqH, ResH>(server_, r);
    }

  private:
    friend class RequestResponse<Req, Res, ReqH, ResH>;
    Server(icefloe_reqres *s, icefloe_allocation_strategy strategy, std::uint32_t initial) {
        icefloe_port_options o = icefloe_port_options_default();
        o.allocation_strategy = strategy;
        o.initial_max_slice_len = initial;
        detail::check(icefloe_server_create(s, &o, &server_), "creating the server");
    }
    icefloe_server *server_ = nullptr;
};

/// QoS of an event service (unset: icefloe's default).
struct EventOptions {
    std::uint32_t max_notifiers = 0;
    std::uint32_t max_listeners = 0;
    std::optional<std::uint32_t> event_id_max_value;
    std::optional<std::uint32_t> notifier_created_event;
    std::optional<std::uint32_t> notifier_dropped_event;
    std::optional<std::uint32_t> notifier_dead_event;
    std::optional<std::chrono::nanoseconds> deadline;
};

class Notifier;
class Listener;

/// An event service.
class EventService {
  public:
    EventService(const Node &node, const char *name, Open mode = Open::OpenOrCreate, const EventOptions &qos = {}) {
        icefloe_event_options o = icefloe_event_options_default();
        o.max_notifiers = qos.max_notifiers;
        o.max_listeners = qos.max_listeners;
        auto id = [](const std::optional<std::uint32_t> &v) { return v ? static_cast<std::int64_t>(*v) : -1; };
        o.event_id_max_value = id(qos.event_id_max_value);
        o.notifier_created_event = id(qos.notifier_created_event);
        o.notifier_dropped_event = id(qos.notifier_dropped_event);
        o.notifier_dead_event = id(qos.notifier_dead_event);
        o.deadline_ns = qos.deadline ? static_cast<std::uint64_t>(qos.deadline->count()) : 0;
        detail::check(icefloe_event_service(node.raw(), name, &o, static_cast<icefloe_open_mode>(mode), &service_),
                      "opening the event service");
    }
    EventService(EventService &&o) noexcept : service_(std::exchange(o.service_, nullptr)) {}
    EventService(const EventService &) = delete;
    EventService &operator=(const EventService &) = delete;
    ~EventService() { icefloe_event_drop(service_); }
    Notifier notifier() const;
    Listener listener() const;

  private:
    icefloe_event *service_ = nullptr;
};

/// Wakes listeners with an event id.
class Notifier {
  public:
    explicit Notifier(icefloe_event *s) { detail::check(icefloe_notifier_create(s, &notifier_), "creating the notifier"); }
    Notifier(Notifier &&o) noexcept : notifier_(std::exchange(o.notifier_, nullptr)) {}
    Notifier(const Notifier &) = delete;
    Notifier &operator=(const Notifier &) = delete;
    ~Notifier() { icefloe_notifier_drop(notifier_); }
    /// Returns how many listeners it woke.
    std::size_t notify(std::uint32_t id = 0) {
        std::size_t woken = 0;
        detail::check(icefloe_notifier_notify(notifier_, id, &woken), "notifying");
        return woken;
    }

  private:
    icefloe_notifier *notifier_ = nullptr;
};

/// Sleeps until notifiers wake it.
class Listener {
  public:
    explicit Listener(icefloe_event *s) { detail::check(icefloe_listener_create(s, &listener_), "creating the listener"); }
    Listener(Listener &&o) noexcept : listener_(std::exchange(o.listener_, nullptr)) {}
    Listener(const Listener &) = delete;
    Listener &operator=(const Listener &) = delete;
    ~Listener() { icefloe_listener_drop(listener_); }
    /// Waits up to `timeout` (zero: not at all) and calls `f(id, count)`
    /// for every pending id; returns how many ids came.
    template <class F>
    std::size_t wait(std::chrono::nanoseconds timeout, F &&f) {
        auto trampoline = [](void *ctx, std::uint32_t id, std::uint32_t count) {
            (*static_cast<std::remove_reference_t<F> *>(ctx))(id, count);
        };
        std::size_t ids = 0;
        detail::check(icefloe_listener_wait(listener_, static_cast<std::uint64_t>(timeout.count()), trampoline,
                                            static_cast<void *>(&f), &ids),
                      "waiting for events");
        return ids;
    }

  private:
    icefloe_listener *listener_ = nullptr;
};

inline Notifier EventService::notifier() const { return Notifier(service_); }
inline Listener EventService::listener() const { return Listener(service_); }

}  // namespace icefloe

#endif
