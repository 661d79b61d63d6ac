//! Reads and writes: full writes, atomic among threads; concurrent reads;
//! end of stream after buffered data; writes to a vanished peer.

use crate::common::*;
use gonet::*;
use std::thread;

fn payload_byte(writer: u32, seq: u32, i: usize) -> u8 {
    (writer as usize * 31 + seq as usize * 7 + i) as u8
}

#[test]
fn concurrent_writes_never_interleave() {
    const WRITERS: u32 = 8;
    const MESSAGES: u32 = 1000;
    let (l, c, s) = tcp_pair();
    let reader = thread::spawn(move || {
        let mut next_seq = [0u32; WRITERS as usize];
        let mut total = 0usize;
        for _ in 0..WRITERS * MESSAGES {
            let header = read_exact(s, 12);
            let len = u32::from_le_bytes(header[0..4].try_into().unwrap()) as usize;
            let writer = u32::from_le_bytes(header[4..8].try_into().unwrap());
            let seq = u32::from_le_bytes(header[8..12].try_into().unwrap());
            assert!(writer < WRITERS, "corrupt frame header {header:?}");
            assert_eq!(
                seq, next_seq[writer as usize],
                "writer {writer} out of order"
            );
            next_seq[writer as usize] += 1;
            let body = read_exact(s, len);
            for (i, b) in body.iter().enumerate() {
                assert_eq!(*b, payload_byte(writer, seq, i), "interleaved bytes");
            }
            total += len;
        }
        total
    });
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            thread::spawn(move || {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(w + 1));
                let mut sent = 0usize;
                for seq in 0..MESSAGES {
                    let len = (rng.next() % (64 * 1024 + 1)) as usize;
                    let mut frame = Vec::with_capacity(12 + len);
                    frame.extend_from_slice(&(len as u32).to_le_bytes());
                    frame.extend_from_slice(&w.to_le_bytes());
                    frame.extend_from_slice(&seq.to_le_bytes());
                    frame.extend((0..len).map(|i| payload_byte(w, seq, i)));
                    assert_eq!(write(c, &frame), frame.len() as i64, "{}", last_error());
                    sent += len;
                }
                sent
            })
        })
        .collect();
    let sent: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    let received = reader.join().unwrap();
    assert_eq!(sent, received);
    for h in [c, s, l] {
        net_close(h);
    }
}

#[test]
fn concurrent_reads_lose_and_duplicate_nothing() {
    const ROUNDS: usize = 2000;
    let (l, c, s) = tcp_pair();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(move || {
                let mut histogram = [0usize; 256];
                let mut buf = [0u8; 100];
                loop {
                    let n = read(s, &mut buf);
                    assert!(n >= 0, "{}", last_error());
                    if n == 0 {
                        return histogram;
                    }
                    for b in &buf[..n as usize] {
                        histogram[*b as usize] += 1;
                    }
                }
            })
        })
        .collect();
    let block: Vec<u8> = (0..=255u8).collect();
    for _ in 0..ROUNDS {
        assert_eq!(write(c, &block), 256);
    }
    assert_eq!(net_close_write(c), 0);
    let mut total = [0usize; 256];
    for r in readers {
        for (t, n) in total.iter_mut().zip(r.join().unwrap()) {
            *t += n;
        }
    }
    assert!(total.iter().all(|&n| n == ROUNDS), "{total:?}");
    for h in [c, s, l] {
        net_close(h);
    }
}

#[test]
fn buffered_data_then_end_of_stream() {
    let (l, c, s) = tcp_pair();
    let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    assert_eq!(write(c, &data), data.len() as i64);
    assert_eq!(net_close(c), 0);
    assert_eq!(read_exact(s, data.len()), data);
    let mut buf = [0u8; 16];
    assert_eq!(read(s, &mut buf), 0, "end of stream after the data");
    assert_eq!(read(s, &mut buf), 0, "and it stays there");
    // A zero-length read is 0, not end of stream.
    assert_eq!(read(s, &mut []), 0);
    net_close(s);
    net_close(l);
}

#[test]
fn half_close_lets_the_other_direction_go_on() {
    let (l, c, s) = tcp_pair();
    assert_eq!(write(c, b"request"), 7);
    assert_eq!(net_close_write(c), 0);
    assert_eq!(read_exact(s, 7), b"request");
    let mut buf = [0u8; 8];
    assert_eq!(read(s, &mut buf), 0);
    assert_eq!(write(s, b"reply"), 5);
    assert_eq!(read_exact(c, 5), b"reply");
    for h in [c, s, l] {
        net_close(h);
    }
}

#[test]
fn write_after_peer_is_gone_fails_with_pipe_or_reset() {
    let (l, c, s) = tcp_pair();
    assert_eq!(net_close(s), 0);
    let chunk = [7u8; 4096];
    let mut result = 0;
    // The first write may still be accepted by the kernel; the peer's reset
    // makes a later one fail. Bounded: 1,000 attempts.
    for _ in 0..1000 {
        result = write(c, &chunk);
        if result < 0 {
            break;
        }
        thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(
        result == NET_EPIPE || result == NET_ERESET,
        "got {result}: {}",
        last_error()
    );
    let msg = last_error();
    assert!(
        msg.starts_with("write tcp 127.0.0.1:")
            && (msg.ends_with("write: broken pipe")
                || msg.ends_with("write: connection reset by peer")),
        "{msg}"
    );
    net_close(c);
    net_close(l);
}
