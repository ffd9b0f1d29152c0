# Tunka-Rex raw data file: the single source of truth of its layout in dlclab.
# dlclab.formats.taiga.layout derives the numpy dtypes of the bulk decoder and the
# writers from this file; the official Kaitai compiler turns it into the reference
# parser used as a test oracle. Keys starting with "-dlclab-" are ignored by Kaitai:
#   -dlclab-metadata: <attribute>   the field supplies this catalogue attribute
#   -dlclab-record: true            the stream of fixed-size records the bulk decoder maps
meta:
  id: tunka_rex
  title: Tunka-Rex raw data (links of radio FADC packages)
  application: Tunka-Rex radio antennas read out by the Tunka-133 cluster DAQ
  endian: le
  bit-endian: be
  license: BSD-3-Clause
doc: |
  A file is a stream of links. A link is one event of one cluster: 4 data packages
  (one per FADC channel, 512 samples each) followed by one additional-info package
  with the event number, the wall-clock time and the optical line length.
  Facts: DOMAIN.md section 2 (after Bychkov et al., CEUR-WS Vol-2267 paper 108).
doc-ref: https://arxiv.org/abs/1907.06183
seq:
  - id: links
    type: link
    repeat: eos
    -dlclab-record: true
    doc: One link (event) after another, 4198 bytes each.
types:
  link:
    doc: One event of one cluster.
    seq:
      - id: data
        type: data_package
        repeat: expr
        repeat-expr: 4
        doc: The 4 FADC channel packages of the event.
      - id: info
        type: info_package
        doc: The additional-info package closing the link.
  data_package:
    doc: One FADC channel, 1040 bytes.
    seq:
      - id: magic
        contents: [0xff, 0xff, 0xa0]
        doc: Package start marker.
      - id: status
        type: u1
        doc: Status byte of the VME module (0 in normal operation).
      - id: package_size
        type: u2
        valid: 1033
        doc: Bytes from request_address to the last sample (9 + 2 * 512).
      - id: request_address
        type: u1
        doc: Request address of the DAQ.
      - id: event_number
        type: u4
        doc: Running package counter of the DAQ (not the event number of the link).
      - id: vme_address
        type: u4
        doc: VME address of the FADC channel.
      - id: fadc
        type: u2
        repeat: expr
        repeat-expr: (package_size - 9) / 2
        doc: FADC samples in ADC counts (baseline near 2048), 5 ns apart.
      - id: cluster_number
        type: u1
        -dlclab-metadata: cluster
        doc: Cluster (1..25) that recorded the package.
  info_package:
    doc: Additional information of the link, 38 bytes.
    seq:
      - id: magic
        contents: [0xff, 0xff, 0xa0]
        doc: Package start marker.
      - id: status
        type: u1
        doc: Status byte of the VME module.
      - id: package_size
        type: u2
        valid: 17
        doc: Bytes from request_address to the end of the four words (9 + 8).
      - id: request_address
        type: u1
        doc: Request address of the DAQ.
      - id: package_counter
        type: u4
        doc: Running package counter of the DAQ (the header's event_number field).
      - id: vme_address
        type: u4
        doc: VME address of the timing module.
      - id: timer_words
        type: u2
        repeat: expr
        repeat-expr: 4
        doc: |
          Four words of the cluster's timing module. In the real sample they follow the
          8-byte time-stamp bit layout but run on a different clock than hour..millisecond;
          kept raw. dlclab's writer stores the event time there in time-stamp form.
      - id: cluster_number
        type: u1
        -dlclab-metadata: cluster
        doc: Cluster (1..25) that recorded the event.
      - id: hour
        type: u2
        doc: Event time, hours (local DAQ clock).
      - id: minute
        type: u2
        doc: Event time, minutes.
      - id: second
        type: u2
        doc: Event time, seconds.
      - id: millisecond
        type: u2
        doc: Event time, milliseconds.
      - id: optical_line_length
        type: u2
        -dlclab-metadata: optical_line_length
        doc: Length of the cluster's optical cable in m (timing correction).
      - id: event_number
        type: u4
        -dlclab-metadata: event_number
        doc: Event number of the link.
