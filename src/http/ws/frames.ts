// Server-to-client WebSocket text frames (RFC 6455 §5.2: FIN + opcode 1, unmasked, with a
// 7-, 16- or 64-bit payload length). Written here so that the frames of one flush pass go to
// the socket as one buffer; ws writes control frames (ping, close) itself, whole, between ours.

/** The frame header for a text payload of `length` bytes. */
function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

function writeHeader(target: Buffer, offset: number, length: number): number {
  target[offset] = 0x81;
  if (length < 126) {
    target[offset + 1] = length;
    return offset + 2;
  }
  if (length < 65_536) {
    target[offset + 1] = 126;
    target.writeUInt16BE(length, offset + 2);
    return offset + 4;
  }
  target[offset + 1] = 127;
  target.writeBigUInt64BE(BigInt(length), offset + 2);
  return offset + 10;
}

/** Text frames, each the concatenation of its pieces (UTF-8 bytes), in one buffer. */
export function textFrames(messages: ReadonlyArray<readonly Buffer[]>): Buffer {
  let total = 0;
  for (const pieces of messages) {
    let length = 0;
    for (const piece of pieces) length += piece.length;
    total += headerLength(length) + length;
  }
  const target = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const pieces of messages) {
    let length = 0;
    for (const piece of pieces) length += piece.length;
    offset = writeHeader(target, offset, length);
    for (const piece of pieces) offset += piece.copy(target, offset);
  }
  return target;
}
