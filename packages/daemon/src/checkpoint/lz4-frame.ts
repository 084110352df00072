/** The LZ4 frame format's magic number (lz4/lz4:doc/lz4_Frame_format.md), little endian. */
export const LZ4_MAGIC = 0x184d2204;
