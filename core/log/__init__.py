"""The chained log's bytes: frames, segments, canonical JSON, CRC, hashes, the tip."""
