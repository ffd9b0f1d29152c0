# TAIGA-HiSCORE raw data file: the single source of truth of its layout in dlclab.
# dlclab.formats.taiga.layout derives the bulk decoder's numpy dtypes and the writers
# from this file; the official Kaitai compiler makes the reference parser (test oracle).
# Keys starting with "-dlclab-" are ignored by Kaitai:
#   -dlclab-metadata: <attribute>   the field supplies this catalogue attribute
#   -dlclab-record: true            the stream of records the bulk decoder maps
meta:
  id: taiga_hiscore
  title: TAIGA-HiSCORE raw data (station packages)
  application: TAIGA-HiSCORE wide-angle Cherenkov stations
  endian: le
  bit-endian: be
  license: BSD-3-Clause
doc: |
  A stream of self-describing, variable-size packages: one per station and event,
  with 9 blocks of samples (one per channel), each block with its own length.
  The meaning of package_size is not published; dlclab takes it, as in the IACT and
  Grande formats, as the bytes after the 24-byte header (blocks + trailer).
  Facts: DOMAIN.md section 2 (after Bychkov et al., CEUR-WS Vol-2267 paper 108).
doc-ref: https://arxiv.org/abs/1907.06183
seq:
  - id: packages
    type: package
    repeat: eos
    -dlclab-record: true
    doc: One station package after another.
types:
  package:
    doc: One station's readout of one event.
    seq:
      - id: magic
        contents: [0xc0, 0x0b]
        doc: Package start marker (0x0bc0).
      - id: package_size
        type: u2
        doc: Bytes after the 24-byte header (9 blocks + trailer).
      - id: event_number
        type: u4
        -dlclab-metadata: event_number
        doc: Event number of the station.
      - id: reserved
        type: u4
        doc: Reserved.
      - id: time
        type: time_stamp
        -dlclab-metadata: time
        doc: Time of day of the event.
      - id: ip
        type: u2
        doc: Last part of the station DAQ's IP address.
      - id: station_number
        type: u2
        -dlclab-metadata: station
        doc: Station number.
      - id: blocks
        type: block
        repeat: expr
        repeat-expr: 9
        doc: One block of samples per channel.
      - id: trailer
        contents: [0xff, 0xff, 0xff, 0xff]
        doc: Package end marker.
  block:
    doc: Samples of one channel.
    seq:
      - id: offset
        type: u2
        doc: Position of the first sample in the channel's readout window (samples).
      - id: sample_count
        type: u2
        doc: Number of samples that follow.
      - id: samples
        type: u2
        repeat: expr
        repeat-expr: sample_count
        doc: Samples in ADC counts.
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
