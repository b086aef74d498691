"""Misuse raises a Python exception (iceoryx2 0.10 aborts the interpreter
on each of these); received payloads are read-only; memoryviews."""

import ctypes

import pytest

import icefloe as iox2
from conftest import node

BYTES = iox2.Slice[ctypes.c_uint8]


@pytest.fixture
def pubsub(prefix):
    n = node(iox2, prefix)
    service = n.service_builder(iox2.ServiceName.new("misuse/bytes")).publish_subscribe(BYTES).open_or_create()
    publisher = service.publisher_builder().initial_max_slice_len(64).create()
    subscriber = service.subscriber_builder().create()
    yield publisher, subscriber
    publisher.delete()
    subscriber.delete()


def test_a_loan_after_assume_init_raises(pubsub):
    publisher, _ = pubsub
    uninit = publisher.loan_slice_uninit(8)
    kept = uninit.payload()
    sample = uninit.assume_init()
    for use in (uninit.payload, uninit.assume_init, lambda: uninit.payload_ptr):
        with pytest.raises(iox2.ReleasedObjectError):
            use()
    kept[0] = 1  # the same loan, still held: fine
    assert sample.payload()[0] == 1


def test_sending_twice_and_using_a_sent_loan_raise(pubsub):
    publisher, subscriber = pubsub
    sample = publisher.loan_slice_uninit(4).assume_init()
    kept = sample.payload()
    assert sample.send() == 1
    with pytest.raises(iox2.ReleasedObjectError):
        sample.send()
    with pytest.raises(iox2.ReleasedObjectError):
        sample.payload()
    with pytest.raises(iox2.ReleasedObjectError):
        kept[0] = 5  # the chunk is the subscriber's now
    assert subscriber.receive() is not None


def test_reading_a_sample_after_delete_raises(pubsub):
    publisher, subscriber = pubsub
    publisher.send_copy(b"abcd")
    sample = subscriber.receive()
    view = sample.payload()
    assert bytes(view[0:4]) == b"abcd"
    sample.delete()
    with pytest.raises(iox2.ReleasedObjectError):
        sample.payload()
    with pytest.raises(iox2.ReleasedObjectError):
        view[0]
    sample.delete()  # twice: nothing more happens


def test_a_received_sample_is_read_only(pubsub):
    publisher, subscriber = pubsub
    publisher.send_copy(b"\x01\x02\x03")
    sample = subscriber.receive()
    with pytest.raises(TypeError):
        sample.payload()[0] = 9
    with pytest.raises(TypeError):
        sample.payload()[:] = b"xyz"
    mv = memoryview(sample.payload())
    assert mv.readonly
    with pytest.raises(TypeError):
        mv[0] = 9
    with pytest.raises((BufferError, TypeError)):
        # A writable buffer of received data is refused, not handed out.
        ctypes.c_char.from_buffer(sample.payload())
    assert bytes(mv) == b"\x01\x02\x03"


def test_a_received_fixed_size_value_is_read_only(prefix):
    class Pose(ctypes.Structure):
        _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double)]

    n = node(iox2, prefix)
    service = n.service_builder(iox2.ServiceName.new("misuse/pose")).publish_subscribe(Pose).open_or_create()
    publisher = service.publisher_builder().create()
    subscriber = service.subscriber_builder().create()
    publisher.send_copy(Pose(1.0, 2.0))
    value = subscriber.receive().payload().contents
    assert (value.x, value.y) == (1.0, 2.0)
    with pytest.raises(TypeError):
        value.x = 3.0
    assert value.x == 1.0


def test_memoryview_has_format_b_and_writes_in_place(pubsub):
    publisher, subscriber = pubsub
    loan = publisher.loan_slice_uninit(6)
    with memoryview(loan.payload()) as mv:
        assert (mv.format, mv.itemsize, mv.nbytes, mv.readonly) == ("B", 1, 6, False)
        mv[:] = b"hello!"
        mv[0] = ord("H")
    assert loan.payload()[0:6] == b"Hello!"
    assert len(loan.payload()) == 6
    assert list(loan.payload())[:2] == [ord("H"), ord("e")]
    loan.assume_init().send()
    assert bytes(memoryview(subscriber.receive().payload())) == b"Hello!"


def test_a_loan_is_not_sent_while_a_memoryview_of_it_lives(pubsub):
    publisher, subscriber = pubsub
    sample = publisher.loan_slice_uninit(3).assume_init()
    mv = memoryview(sample.payload())
    with pytest.raises(BufferError):
        sample.send()
    mv[:] = b"abc"
    mv.release()
    assert sample.send() == 1
    assert bytes(memoryview(subscriber.receive().payload())) == b"abc"


def test_a_memoryview_keeps_a_deleted_sample_alive(pubsub):
    publisher, subscriber = pubsub
    publisher.send_copy(b"keep")
    sample = subscriber.receive()
    mv = memoryview(sample.payload())
    sample.delete()
    del sample
    # The chunk stays the subscriber's until the view goes: still readable.
    assert bytes(mv) == b"keep"
    mv.release()
    with pytest.raises(ValueError):
        bytes(mv)


def test_a_slice_on_a_fixed_size_service_and_back_raise_type_error(prefix):
    n = node(iox2, prefix)
    fixed = n.service_builder(iox2.ServiceName.new("misuse/fixed")).publish_subscribe(ctypes.c_uint64).open_or_create()
    with pytest.raises(TypeError):
        fixed.publisher_builder().initial_max_slice_len(4)
    with pytest.raises(TypeError):
        fixed.publisher_builder().create().loan_slice_uninit(4)
    with pytest.raises(TypeError):
        fixed.publisher_builder().create().send_copy(ctypes.c_uint32(1))


def test_bad_names_raise_semantic_string_error():
    with pytest.raises(iox2.SemanticStringError):
        iox2.ServiceName.new("")
    with pytest.raises(iox2.SemanticStringError):
        iox2.ServiceName.new("x" * 300)


def test_numpy_reads_and_writes_payloads_without_a_copy(pubsub):
    import numpy as np  # installed by ci/python into the test venv

    publisher, subscriber = pubsub
    loan = publisher.loan_slice_uninit(16)
    arr = np.frombuffer(loan.payload(), dtype=np.uint8)
    assert arr.__array_interface__["data"][0] == loan.payload_ptr, "the array is the loan's memory"
    assert arr.flags.writeable
    arr[:] = np.arange(16, dtype=np.uint8)
    sample = loan.assume_init()  # the same memory: fine with the array alive
    with pytest.raises(BufferError):
        sample.send()
    del arr
    assert sample.send() == 1
    got = subscriber.receive()
    view = np.frombuffer(got.payload(), dtype=np.uint8)
    assert not view.flags.writeable, "received data is read-only in numpy too"
    assert view.tolist() == list(range(16))
    assert view.__array_interface__["data"][0] == got.payload_ptr
    with pytest.raises(ValueError):
        view[0] = 1
    words = np.frombuffer(got.payload(), dtype="<u4")
    assert words.shape == (4,)
