"""The front door's bounds: what a peer that holds no key can make the server keep, compute or write.

Everything a stranger on the network can reach (the coap port, the coaps
handshake before authentication, the log and the timeline that record refusals)
is bounded by one of these, so the numbers live in one place and README's
security section lists them. Each is a module constant the code reads as a
default; tests pass smaller values where they need to reach a bound quickly.
"""

from __future__ import annotations

# --- DTLS: before authentication -------------------------------------------------------------
# RFC 4279 5.3: identities up to 128 octets must be supported; longer ones are refused as unknown
# without a lookup, and never logged whole.
MAX_PSK_IDENTITY = 128
# A PSK server needs ~130-byte handshake messages (ClientKeyExchange with a 128-byte identity,
# Finished 12); a message announced longer than this is dropped before any buffer is made for it.
MAX_HANDSHAKE_MESSAGE = 512
# The one message that is larger: a ClientHello with many suites and extensions (OpenSSL and
# GnuTLS offer ~300-600 bytes). A longer one is dropped unanswered.
MAX_CLIENT_HELLO = 2048
# Handshake messages one handshake buffers ahead of the next expected one.
MAX_BUFFERED_MESSAGES = 4
# Records handled from one datagram (a client's final flight is 3); the rest are dropped.
MAX_RECORDS_PER_DATAGRAM = 16
# Half-open (cookie-verified, not yet finished) handshakes; a new one pushes out the oldest
# half-open one, never an established session.
MAX_HALF_OPEN_HANDSHAKES = 64
# A handshake not finished by then is dropped and logged.
HANDSHAKE_TIMEOUT = 30.0
# After a record that would fail the handshake (a Finished that does not authenticate, an unknown
# identity, a plaintext fatal alert) the handshake waits this long for an authentic flight before it
# fails: one spoofed datagram cannot end a handshake, and a client with a wrong key still hears why
# (a fatal alert) within seconds. Longer than a client's first retransmission (1 s, RFC 6347 4.2.4.1).
HANDSHAKE_FAILURE_GRACE = 2.0
# Stateless cookies (RFC 6347 4.2.1): the secret rotates every COOKIE_LIFETIME seconds and the
# previous one is still accepted, so a cookie is valid for at least one and at most two lifetimes.
COOKIE_LIFETIME = 60.0

# --- DTLS: after authentication --------------------------------------------------------------
# Established sessions. When full, a new session pushes out the least recently active one that
# no live registration holds; if every session is held, the new one is refused.
MAX_SESSIONS = 256
# A session idle this long is forgotten, unless a live registration holds it (its lifetime).
SESSION_IDLE_TIMEOUT = 3600.0

# --- What refusals cost in the log and the timeline ------------------------------------------
# Refusal and handshake-failure events (timeline + log line) per second; past it they are counted
# and the next one recorded says how many were left out.
EVENTS_PER_SECOND = 20.0
# A flood of half-open handshakes is reported as one warning with counts at most this often.
FLOOD_WARNING_INTERVAL = 10.0
# Longest log line / printed event line; longer ones are cut and say how much was cut.
MAX_LOG_LINE = 300
# Characters of a peer-chosen string (PSK identity, endpoint name) put into a log line or event.
MAX_LOGGED_TEXT = 64
# Offered cipher suites named in a "no common cipher suite" reason.
MAX_LISTED_SUITES = 8

# --- Registration interface ------------------------------------------------------------------
# Random bytes of a registration's location (/rd/<16 hex digits>): not guessable from another's.
LOCATION_BYTES = 8
# Registered endpoints (a flood of random names gets 5.03 past this).
MAX_ENDPOINTS = 1024
