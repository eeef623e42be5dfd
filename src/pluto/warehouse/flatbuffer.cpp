#include "pluto/warehouse/flatbuffer.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <utility>

namespace pluto::warehouse::flatbuf {
namespace {

void pad_to(std::string& out, size_t align) {
  out.append((align - out.size() % align) % align, '\0');
}

void append_le(std::string& out, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFU));
}

void store_le(std::string& out, size_t at, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) out[at + i] = static_cast<char>((v >> (8 * i)) & 0xFFU);
}

// A uoffset at `at` pointing forward to `target`.
void patch(std::string& out, size_t at, size_t target) {
  store_le(out, at, static_cast<uint32_t>(target - at), 4);
}

}  // namespace

Table& Table::scalar(int slot, uint64_t bits, uint32_t size) {
  Field f;
  f.slot = slot;
  f.kind = Kind::scalar;
  f.bits = bits;
  f.size = size;
  fields_.push_back(std::move(f));
  return *this;
}

Table& Table::string(int slot, std::string_view v) {
  Field f;
  f.slot = slot;
  f.kind = Kind::string;
  f.bytes = std::string(v);
  fields_.push_back(std::move(f));
  return *this;
}

Table& Table::table(int slot, Table t) {
  Field f;
  f.slot = slot;
  f.kind = Kind::table;
  f.nested.push_back(std::move(t));
  fields_.push_back(std::move(f));
  return *this;
}

Table& Table::tables(int slot, std::vector<Table> v) {
  Field f;
  f.slot = slot;
  f.kind = Kind::tables;
  f.nested = std::move(v);
  fields_.push_back(std::move(f));
  return *this;
}

Table& Table::structs(int slot, std::string bytes, uint32_t count, uint32_t align) {
  Field f;
  f.slot = slot;
  f.kind = Kind::structs;
  f.bytes = std::move(bytes);
  f.size = count;
  f.align = std::max<uint32_t>(align, 4);
  fields_.push_back(std::move(f));
  return *this;
}

std::string Table::finish() const {
  std::string out(4, '\0');  // root uoffset
  write(out, 0);
  pad_to(out, 8);
  return out;
}

void Table::write(std::string& out, size_t patch_at) const {
  auto inline_size = [](const Field& f) -> uint32_t { return f.kind == Kind::scalar ? f.size : 4; };
  int nslots = 0;
  for (const auto& f : fields_) nslots = std::max(nslots, f.slot + 1);

  // Inline layout after the 4-byte soffset: largest fields first, each aligned to its size. The
  // table starts 8-aligned, so relative alignment is absolute alignment.
  std::vector<size_t> order(fields_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return inline_size(fields_[a]) > inline_size(fields_[b]); });
  std::vector<uint32_t> offset(fields_.size());
  uint32_t cursor = 4;
  for (size_t i : order) {
    const uint32_t sz = inline_size(fields_[i]);
    cursor = (cursor + sz - 1) / sz * sz;
    offset[i] = cursor;
    cursor += sz;
  }

  // vtable: its size, the table's inline size, then one field offset per slot (0: absent).
  pad_to(out, 2);
  const size_t vtable = out.size();
  append_le(out, 4 + 2 * static_cast<uint64_t>(nslots), 2);
  append_le(out, cursor, 2);
  const size_t slots_at = out.size();
  out.append(2 * static_cast<size_t>(nslots), '\0');
  pad_to(out, 8);
  const size_t table = out.size();
  out.append(cursor, '\0');
  store_le(out, table, static_cast<uint32_t>(table - vtable), 4);  // soffset: vtable = table - soffset
  for (size_t i = 0; i < fields_.size(); ++i) {
    store_le(out, slots_at + 2 * static_cast<size_t>(fields_[i].slot), offset[i], 2);
    if (fields_[i].kind == Kind::scalar) store_le(out, table + offset[i], fields_[i].bits, fields_[i].size);
  }
  patch(out, patch_at, table);

  // The referenced objects, after the table.
  for (size_t i = 0; i < fields_.size(); ++i) {
    const Field& f = fields_[i];
    const size_t at = table + offset[i];
    switch (f.kind) {
      case Kind::scalar: break;
      case Kind::string:
        pad_to(out, 4);
        patch(out, at, out.size());
        append_le(out, f.bytes.size(), 4);
        out += f.bytes;
        out.push_back('\0');
        break;
      case Kind::table: f.nested.front().write(out, at); break;
      case Kind::tables: {
        pad_to(out, 4);
        const size_t vec = out.size();
        patch(out, at, vec);
        append_le(out, f.nested.size(), 4);
        out.append(4 * f.nested.size(), '\0');
        for (size_t k = 0; k < f.nested.size(); ++k) f.nested[k].write(out, vec + 4 + 4 * k);
        break;
      }
      case Kind::structs:
        // The length prefix sits right before the elements, which must be `align`-aligned.
        while ((out.size() + 4) % f.align != 0) out.push_back('\0');
        patch(out, at, out.size());
        append_le(out, f.size, 4);
        out += f.bytes;
        break;
    }
  }
}

}  // namespace pluto::warehouse::flatbuf
