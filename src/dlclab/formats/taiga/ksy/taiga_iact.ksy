# TAIGA-IACT raw data file: the single source of truth of its layout in dlclab.
# dlclab.formats.taiga.layout derives the bulk decoder's numpy dtypes and the writers
# from this file; the official Kaitai compiler makes the reference parser (test oracle).
# Keys starting with "-dlclab-" are ignored by Kaitai:
#   -dlclab-metadata: <attribute>   the field supplies this catalogue attribute
#   -dlclab-record: true            the stream of records the bulk decoder maps
meta:
  id: taiga_iact
  title: TAIGA-IACT raw data (MAROC board packages)
  application: TAIGA imaging air Cherenkov telescope camera DAQ
  endian: le
  bit-endian: be
  license: BSD-3-Clause
doc: |
  A stream of 156-byte packages. Each package holds the 32 channels of one MAROC
  board; one camera event is spread over several boards, i.e. over several packages
  with the same event number.
  Facts: DOMAIN.md section 2 (after Bychkov et al., CEUR-WS Vol-2267 paper 108).
doc-ref: https://arxiv.org/abs/1907.06183
seq:
  - id: packages
    type: package
    repeat: eos
    -dlclab-record: true
    doc: One board package after another.
types:
  package:
    doc: One MAROC board's readout of one event, 156 bytes.
    seq:
      - id: magic
        contents: [0xd8, 0x0b]
        doc: Package start marker (0x0bd8).
      - id: package_size
        type: u2
        valid: 132
        doc: Bytes after the 24-byte header (32 channels x 4 + trailer 4).
      - id: event_number
        type: u4
        -dlclab-metadata: event_number
        doc: Camera event number, shared by the packages of one event.
      - id: reserved
        type: u4
        doc: Reserved; a running counter in real data.
      - id: time
        type: time_stamp
        -dlclab-metadata: time
        doc: Time of day of the event.
      - id: maroc
        type: maroc_word
        doc: MAROC board word.
      - id: channels
        type: channel
        repeat: expr
        repeat-expr: 32
        doc: The board's 32 channels.
      - id: trailer
        contents: [0xff, 0xff, 0xff, 0xff]
        doc: Package end marker.
  maroc_word:
    doc: |
      MAROC word (u4). The board number is in its first 5 bits in Kaitai's default
      (big-endian) bit order, i.e. the 5 most significant bits of the word's first byte.
      All boards of the real sample are 0, so the bytes cannot settle this; dlclab keeps
      Kaitai's reading, as the published description does.
    meta:
      bit-endian: be
    seq:
      - id: board
        type: b5
        -dlclab-metadata: board
        doc: MAROC board number (0..31).
      - id: reserved
        type: b27
        doc: Remaining bits of the word.
  channel:
    doc: Amplitudes of one PMT channel.
    seq:
      - id: high_gain
        type: u2
        doc: High-gain amplitude in ADC counts.
      - id: low_gain
        type: u2
        doc: Low-gain amplitude in ADC counts.
  time_stamp:
    doc: |
      8-byte time stamp of the DAQ clock, four u2 words d0..d3 (d3 unused). Gives the
      time of day; the date comes from the folder or file name. dlclab decodes it in
      dlclab.formats.taiga.timestamp (one function, vectorised); the instances below
      are the same formula for the Kaitai oracle.
    seq:
      - id: d0
        type: u2
        doc: bits 0-6 tens of ns, bits 7-15 microseconds (low 9 bits).
      - id: d1
        type: u2
        doc: bit 0 microseconds (bit 9), bits 1-10 milliseconds, bits 11-15 seconds (low 5 bits).
      - id: d2
        type: u2
        doc: bit 0 seconds (bit 5), bits 1-6 minutes, bits 7-11 hours.
      - id: d3
        type: u2
        doc: Unused (not zero in real data).
    instances:
      nanoseconds:
        value: (d0 & 0x7f) * 10
      microseconds:
        value: ((d0 & 0xff80) >> 7) | ((d1 & 1) << 9)
      milliseconds:
        value: (d1 & 0x7fe) >> 1
      seconds:
        value: ((d1 & 0xf800) >> 11) | ((d2 & 1) << 5)
      minutes:
        value: (d2 & 0x7e) >> 1
      hours:
        value: (d2 & 0xf80) >> 7
