#pragma once
// A minimal FlatBuffers writer: just enough to encode Arrow IPC metadata (Message.fbs, Schema.fbs).
// Tables are described as values (slot -> scalar, string, table, vector) and serialised front to
// back: every table is preceded by its vtable and followed by the objects it refers to, so all
// uoffsets point forward as the format requires. Scalars are aligned to their size, vectors of
// structs to `align`, relative to the start of the buffer (which the caller keeps 8-aligned).
// Little-endian hosts only (as Arrow IPC written here declares Endianness::Little).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pluto::warehouse::flatbuf {

class Table {
 public:
  // Scalars. A slot may be set once; slots need not be set in order.
  Table& u8(int slot, uint8_t v) { return scalar(slot, v, 1); }
  Table& boolean(int slot, bool v) { return scalar(slot, v ? 1 : 0, 1); }
  Table& i16(int slot, int16_t v) { return scalar(slot, static_cast<uint16_t>(v), 2); }
  Table& i32(int slot, int32_t v) { return scalar(slot, static_cast<uint32_t>(v), 4); }
  Table& i64(int slot, int64_t v) { return scalar(slot, static_cast<uint64_t>(v), 8); }
  // References.
  Table& string(int slot, std::string_view v);
  Table& table(int slot, Table t);
  Table& tables(int slot, std::vector<Table> v);
  // A vector of fixed-size structs (or scalars) given as their little-endian bytes.
  Table& structs(int slot, std::string bytes, uint32_t count, uint32_t align);

  // The finished buffer: a root uoffset followed by this table and everything it refers to,
  // padded to a multiple of 8 bytes.
  std::string finish() const;

 private:
  enum class Kind { scalar, string, table, tables, structs };
  struct Field {
    int slot = 0;
    Kind kind = Kind::scalar;
    uint64_t bits = 0;  // scalar value
    uint32_t size = 0;  // scalar size in bytes; struct vector element count
    uint32_t align = 4;
    std::string bytes;          // string / struct vector bytes
    std::vector<Table> nested;  // one table, or the vector of tables
  };
  Table& scalar(int slot, uint64_t bits, uint32_t size);
  void write(std::string& out, size_t patch_at) const;

  std::vector<Field> fields_;
};

}  // namespace pluto::warehouse::flatbuf
