# Tunka-Grande raw data file: the single source of truth of its layout in dlclab.
# dlclab.formats.taiga.layout derives the bulk decoder's numpy dtypes and the writers
# from this file; the official Kaitai compiler makes the reference parser (test oracle).
# Keys starting with "-dlclab-" are ignored by Kaitai:
#   -dlclab-metadata: <attribute>   the field supplies this catalogue attribute
#   -dlclab-record: true            the stream of records the bulk decoder maps
meta:
  id: tunka_grande
  title: Tunka-Grande raw data (scintillator station packages)
  application: Tunka-Grande scintillation stations read out by the cluster DAQ
  endian: le
  bit-endian: le
  license: BSD-3-Clause
doc: |
  A stream of 16476-byte packages: one per link (1..4) and event, with 8 blocks of
  1024 samples.

  Byte order of the small fields (dlclab's decision). The published description reads
  the cluster word and the channel words as big-endian bit fields, while every other
  field of the stream is little-endian. dlclab reads them little-endian too:
  cluster_number is the first byte, optical_line_length a u2le at bytes 2..3 of the
  word, and the channel word is a u2le whose bits count from the least significant
  one (channel bits 0-3, bank bit 4, link bits 5-6, reserved bits 7-15). With the
  big-endian reading a 500 m optical line would read as 62465 m (0xf401), and the
  channel numbers 0..7 of the 8 blocks would land in the high byte. No real Tunka-Grande
  sample is at hand; if one shows otherwise, this file is the one place to change.
  Facts: DOMAIN.md section 2 (after Bychkov et al., CEUR-WS Vol-2267 paper 108).
doc-ref: https://arxiv.org/abs/1907.06183
seq:
  - id: packages
    type: package
    repeat: eos
    -dlclab-record: true
    doc: One package after another.
types:
  package:
    doc: One link's readout of one event, 16476 bytes.
    seq:
      - id: data_type
        type: u2
        valid:
          min: 3032
          max: 3035
        doc: 3032..3035 for links 1..4 (also the package start marker).
      - id: package_size
        type: u2
        valid: 16452
        doc: Bytes after the 24-byte header (8 blocks + trailer).
      - id: event_number
        type: u4
        -dlclab-metadata: event_number
        doc: Event number.
      - id: error_count
        type: u4
        doc: Error counter of the DAQ.
      - id: time
        type: time_stamp
        -dlclab-metadata: time
        doc: Time of day of the event.
      - id: cluster_number
        type: u1
        -dlclab-metadata: cluster
        doc: Cluster (station) number; see the byte-order note above.
      - id: reserved
        type: u1
        doc: Reserved.
      - id: optical_line_length
        type: u2
        -dlclab-metadata: optical_line_length
        doc: Length of the optical cable in m; see the byte-order note above.
      - id: blocks
        type: block
        repeat: expr
        repeat-expr: 8
        doc: One block per channel.
      - id: trailer
        contents: [0xff, 0xff, 0xff, 0xff]
        doc: Package end marker.
  block:
    doc: Samples of one channel, 2056 bytes.
    seq:
      - id: vme_address
        type: u4
        doc: VME address of the ADC.
      - id: data_count
        type: u2
        valid: 1024
        doc: Number of samples that follow.
      - id: channel_word
        type: channel_word
        doc: Channel, bank and link of the block.
      - id: samples
        type: u2
        repeat: expr
        repeat-expr: data_count
        doc: Samples in ADC counts.
  channel_word:
    doc: u2 read little-endian, bit fields from the least significant bit (see above).
    meta:
      bit-endian: le
    seq:
      - id: channel
        type: b4
        doc: Channel 0..7 of the block.
      - id: bank
        type: b1
        doc: Memory bank.
      - id: link
        type: b2
        doc: Link 0..3 (link number - 1).
      - id: reserved
        type: b9
        doc: Reserved bits.
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
