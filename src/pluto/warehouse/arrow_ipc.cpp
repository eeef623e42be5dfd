#include "pluto/warehouse/arrow_ipc.hpp"

#include <bit>
#include <charconv>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pluto/warehouse/arrow_c_data.hpp"
#include "pluto/warehouse/flatbuffer.hpp"

static_assert(std::endian::native == std::endian::little, "the Arrow IPC writer declares little-endian data");

namespace pluto::warehouse {
namespace {

// ---- ownership of DuckDB's C Data Interface objects ---------------------------------------------

class OwnedSchema {
 public:
  OwnedSchema() = default;
  ~OwnedSchema() {
    if (s_.release != nullptr) s_.release(&s_);
  }
  OwnedSchema(const OwnedSchema&) = delete;
  OwnedSchema& operator=(const OwnedSchema&) = delete;
  ArrowSchema* get() { return &s_; }

 private:
  ArrowSchema s_{};
};

class OwnedArray {
 public:
  OwnedArray() = default;
  ~OwnedArray() {
    if (a_.release != nullptr) a_.release(&a_);
  }
  OwnedArray(const OwnedArray&) = delete;
  OwnedArray& operator=(const OwnedArray&) = delete;
  ArrowArray* get() { return &a_; }

 private:
  ArrowArray a_{};
};

class ArrowOptions {
 public:
  explicit ArrowOptions(QueryResult& result) : o_(duckdb_result_get_arrow_options(result.raw())) {}
  ~ArrowOptions() {
    if (o_ != nullptr) duckdb_destroy_arrow_options(&o_);
  }
  ArrowOptions(const ArrowOptions&) = delete;
  ArrowOptions& operator=(const ArrowOptions&) = delete;
  duckdb_arrow_options get() const { return o_; }

 private:
  duckdb_arrow_options o_ = nullptr;
};

// DuckDB's message when `e` holds an error; destroys `e` either way. These messages come as JSON
// ({"exception_type":…,"exception_message":"…"}); the plain message is kept.
std::optional<std::string> take_error(duckdb_error_data e) {
  if (e == nullptr) return std::nullopt;
  std::optional<std::string> msg;
  if (duckdb_error_data_has_error(e)) {
    const char* m = duckdb_error_data_message(e);
    msg = m != nullptr ? m : "unknown error";
    constexpr std::string_view kKey = "\"exception_message\":\"";
    const auto at = msg->find(kKey);
    const auto end = at == std::string::npos ? at : msg->find('"', at + kKey.size());
    if (end != std::string::npos) msg = msg->substr(at + kKey.size(), end - at - kKey.size());
  }
  duckdb_destroy_error_data(&e);
  return msg;
}

// ---- IPC enums (Schema.fbs, Message.fbs) --------------------------------------------------------

namespace type_id {
constexpr uint8_t null = 1, integer = 2, floating = 3, binary = 4, utf8 = 5, boolean = 6, decimal = 7, date = 8,
                  time = 9, timestamp = 10, interval = 11, list = 12, struct_ = 13, union_ = 14, fixed_binary = 15,
                  fixed_list = 16, map = 17, duration = 18, large_binary = 19, large_utf8 = 20, large_list = 21;
}  // namespace type_id
namespace header_type {
constexpr uint8_t schema = 1, dictionary_batch = 2, record_batch = 3;
}  // namespace header_type
constexpr int16_t kMetadataV5 = 4;

// ---- the plan: how each field's buffers are written, derived once from the schema ---------------

enum class Layout {
  null,          // no buffers
  fixed,         // validity, values of `width` bytes
  boolean,       // validity, bits
  binary,        // validity, int32 offsets, data
  large_binary,  // validity, int64 offsets, data
  binary_view,   // DuckDB's views, written as `binary`
  list,          // validity, int32 offsets; child (also map)
  large_list,    // validity, int64 offsets; child
  fixed_list,    // validity; child of `width` values per list
  struct_,       // validity; children
  sparse_union,  // type ids; children
  dense_union,   // type ids, int32 offsets; children
  dictionary,    // validity, indices of `width` bytes; values in DictionaryBatch messages
};

struct Plan {
  Layout layout = Layout::null;
  int64_t width = 0;
  int64_t dictionary_id = -1;
  std::vector<Plan> children;
  std::unique_ptr<Plan> values;  // a dictionary's value type
};

struct Unsupported {
  std::string what;  // the Arrow format or the reason
};

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  const auto* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || p != end) return std::nullopt;
  return v;
}

// Arrow C Data Interface metadata -> KeyValue tables.
std::vector<flatbuf::Table> metadata_tables(const char* md) {
  std::vector<flatbuf::Table> out;
  if (md == nullptr) return out;
  auto read_i32 = [&md]() {
    int32_t v = 0;
    std::memcpy(&v, md, 4);
    md += 4;
    return v;
  };
  const int32_t n = read_i32();
  for (int32_t i = 0; i < n; ++i) {
    const int32_t klen = read_i32();
    std::string_view key(md, static_cast<size_t>(klen));
    md += klen;
    const int32_t vlen = read_i32();
    std::string_view value(md, static_cast<size_t>(vlen));
    md += vlen;
    flatbuf::Table kv;
    kv.string(0, key).string(1, value);
    out.push_back(std::move(kv));
  }
  return out;
}

flatbuf::Table int_type(int bits, bool is_signed) {
  flatbuf::Table t;
  t.i32(0, bits).boolean(1, is_signed);
  return t;
}

struct TypeInfo {
  uint8_t type_type = 0;
  flatbuf::Table type;
  Layout layout = Layout::null;
  int64_t width = 0;
};

std::optional<int16_t> time_unit(char c) {
  switch (c) {
    case 's': return 0;
    case 'm': return 1;
    case 'u': return 2;
    case 'n': return 3;
    default: return std::nullopt;
  }
}

// The IPC type of a C Data Interface format string (nested children are handled by the caller).
Result<TypeInfo> type_of(std::string_view f, const ArrowSchema& s) {
  TypeInfo t;
  auto fixed = [&](uint8_t id, flatbuf::Table type, int64_t width) {
    t.type_type = id;
    t.type = std::move(type);
    t.layout = Layout::fixed;
    t.width = width;
    return t;
  };
  auto simple = [&](uint8_t id, Layout layout) {
    t.type_type = id;
    t.layout = layout;
    return t;
  };
  const Error unsupported(ErrorCode::invalid_argument, "Arrow format '" + std::string(f) + "'");
  if (f.size() == 1) {
    switch (f[0]) {
      case 'n': return simple(type_id::null, Layout::null);
      case 'b': return simple(type_id::boolean, Layout::boolean);
      case 'c': return fixed(type_id::integer, int_type(8, true), 1);
      case 'C': return fixed(type_id::integer, int_type(8, false), 1);
      case 's': return fixed(type_id::integer, int_type(16, true), 2);
      case 'S': return fixed(type_id::integer, int_type(16, false), 2);
      case 'i': return fixed(type_id::integer, int_type(32, true), 4);
      case 'I': return fixed(type_id::integer, int_type(32, false), 4);
      case 'l': return fixed(type_id::integer, int_type(64, true), 8);
      case 'L': return fixed(type_id::integer, int_type(64, false), 8);
      case 'e':
      case 'f':
      case 'g': {
        const int16_t precision = f[0] == 'e' ? 0 : f[0] == 'f' ? 1 : 2;
        flatbuf::Table fp;
        fp.i16(0, precision);
        return fixed(type_id::floating, std::move(fp), f[0] == 'e' ? 2 : f[0] == 'f' ? 4 : 8);
      }
      case 'z': return simple(type_id::binary, Layout::binary);
      case 'Z': return simple(type_id::large_binary, Layout::large_binary);
      case 'u': return simple(type_id::utf8, Layout::binary);
      case 'U': return simple(type_id::large_utf8, Layout::large_binary);
      default: return unsupported;
    }
  }
  if (f == "vu") return simple(type_id::utf8, Layout::binary_view);
  if (f == "vz") return simple(type_id::binary, Layout::binary_view);
  if (f.starts_with("d:")) {
    // d:precision,scale[,bitwidth]
    std::string_view rest = f.substr(2);
    std::vector<int64_t> parts;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      auto v = parse_int(rest.substr(0, comma));
      if (!v) return unsupported;
      parts.push_back(*v);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    if (parts.size() < 2 || parts.size() > 3) return unsupported;
    const int64_t bits = parts.size() == 3 ? parts[2] : 128;
    if (bits != 128 && bits != 256) return unsupported;
    flatbuf::Table d;
    d.i32(0, static_cast<int32_t>(parts[0])).i32(1, static_cast<int32_t>(parts[1])).i32(2, static_cast<int32_t>(bits));
    return fixed(type_id::decimal, std::move(d), bits / 8);
  }
  if (f.starts_with("w:")) {
    auto w = parse_int(f.substr(2));
    if (!w || *w < 0 || *w > std::numeric_limits<int32_t>::max()) return unsupported;
    flatbuf::Table b;
    b.i32(0, static_cast<int32_t>(*w));
    return fixed(type_id::fixed_binary, std::move(b), *w);
  }
  if (f == "tdD" || f == "tdm") {
    flatbuf::Table d;
    d.i16(0, f == "tdD" ? 0 : 1);
    return fixed(type_id::date, std::move(d), f == "tdD" ? 4 : 8);
  }
  if (f.size() == 3 && f.starts_with("tt")) {
    auto unit = time_unit(f[2]);
    if (!unit) return unsupported;
    const int32_t bits = *unit <= 1 ? 32 : 64;
    flatbuf::Table tm;
    tm.i16(0, *unit).i32(1, bits);
    return fixed(type_id::time, std::move(tm), bits / 8);
  }
  if (f.size() >= 4 && f.starts_with("ts") && f[3] == ':') {
    auto unit = time_unit(f[2]);
    if (!unit) return unsupported;
    flatbuf::Table ts;
    ts.i16(0, *unit);
    if (f.size() > 4) ts.string(1, f.substr(4));
    return fixed(type_id::timestamp, std::move(ts), 8);
  }
  if (f.size() == 3 && f.starts_with("tD")) {
    auto unit = time_unit(f[2]);
    if (!unit) return unsupported;
    flatbuf::Table d;
    d.i16(0, *unit);
    return fixed(type_id::duration, std::move(d), 8);
  }
  if (f == "tiM" || f == "tiD" || f == "tin") {
    flatbuf::Table iv;
    iv.i16(0, f == "tiM" ? 0 : f == "tiD" ? 1 : 2);
    return fixed(type_id::interval, std::move(iv), f == "tiM" ? 4 : f == "tiD" ? 8 : 16);
  }
  if (f == "+l") return simple(type_id::list, Layout::list);
  if (f == "+L") return simple(type_id::large_list, Layout::large_list);
  if (f == "+s") return simple(type_id::struct_, Layout::struct_);
  if (f == "+m") {
    flatbuf::Table m;
    m.boolean(0, (s.flags & ARROW_FLAG_MAP_KEYS_SORTED) != 0);
    t.type = std::move(m);
    t.type_type = type_id::map;
    t.layout = Layout::list;
    return t;
  }
  if (f.starts_with("+w:")) {
    auto n = parse_int(f.substr(3));
    if (!n || *n < 0 || *n > std::numeric_limits<int32_t>::max()) return unsupported;
    flatbuf::Table fl;
    fl.i32(0, static_cast<int32_t>(*n));
    t.type = std::move(fl);
    t.type_type = type_id::fixed_list;
    t.layout = Layout::fixed_list;
    t.width = *n;
    return t;
  }
  if (f.starts_with("+us:") || f.starts_with("+ud:")) {
    const bool dense = f[2] == 'd';
    std::string ids;
    uint32_t count = 0;
    std::string_view rest = f.substr(4);
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      auto v = parse_int(rest.substr(0, comma));
      if (!v || *v < 0 || *v > 127) return unsupported;
      const auto id = static_cast<int32_t>(*v);
      ids.append(reinterpret_cast<const char*>(&id), 4);
      ++count;
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    if (count != static_cast<uint64_t>(s.n_children)) return unsupported;
    flatbuf::Table u;
    u.i16(0, dense ? 1 : 0).structs(1, std::move(ids), count, 4);
    t.type = std::move(u);
    t.type_type = type_id::union_;
    t.layout = dense ? Layout::dense_union : Layout::sparse_union;
    return t;
  }
  return unsupported;  // list views (+vl, +vL), run-end encoded (+r), anything newer
}

int64_t expected_children(Layout layout) {
  switch (layout) {
    case Layout::list:
    case Layout::large_list:
    case Layout::fixed_list: return 1;
    default: return 0;
  }
}

// Builds the IPC Field table of `s` and the plan to write its buffers. `in_dictionary`: inside a
// dictionary's values (nested dictionaries are not written).
Result<Plan> plan_field(const ArrowSchema& s, flatbuf::Table& field, int64_t& next_dictionary_id, bool in_dictionary) {
  const std::string_view format = s.format != nullptr ? s.format : "";
  field.string(0, s.name != nullptr ? s.name : "");
  field.boolean(1, (s.flags & ARROW_FLAG_NULLABLE) != 0);
  auto md = metadata_tables(s.metadata);
  if (!md.empty()) field.tables(6, std::move(md));

  Plan plan;
  const ArrowSchema* value_schema = &s;
  if (s.dictionary != nullptr) {
    if (in_dictionary) return Error(ErrorCode::invalid_argument, "a dictionary nested in dictionary values");
    static constexpr std::string_view kIndexFormats = "cCsSiIlL";
    const auto pos = format.size() == 1 ? kIndexFormats.find(format[0]) : std::string_view::npos;
    if (pos == std::string_view::npos) {
      return Error(ErrorCode::invalid_argument, "dictionary indices of Arrow format '" + std::string(format) + "'");
    }
    const int bits = 8 << (pos / 2);
    plan.layout = Layout::dictionary;
    plan.width = bits / 8;
    plan.dictionary_id = next_dictionary_id++;
    flatbuf::Table encoding;
    encoding.i64(0, plan.dictionary_id)
        .table(1, int_type(bits, pos % 2 == 0))
        .boolean(2, (s.flags & ARROW_FLAG_DICTIONARY_ORDERED) != 0);
    field.table(4, std::move(encoding));
    value_schema = s.dictionary;
    in_dictionary = true;
  }

  const std::string_view value_format = value_schema->format != nullptr ? value_schema->format : "";
  PLUTO_ASSIGN_OR_RETURN(auto info, type_of(value_format, *value_schema));
  field.u8(2, info.type_type);
  field.table(3, std::move(info.type));
  Plan value_plan;
  value_plan.layout = info.layout;
  value_plan.width = info.width;
  const bool any_children =
      info.layout == Layout::struct_ || info.layout == Layout::sparse_union || info.layout == Layout::dense_union;
  if (!any_children && value_schema->n_children != expected_children(info.layout)) {
    return Error(ErrorCode::invalid_argument, "Arrow format '" + std::string(value_format) + "' with " +
                                                  std::to_string(value_schema->n_children) + " children");
  }
  std::vector<flatbuf::Table> children;
  for (int64_t i = 0; i < value_schema->n_children; ++i) {
    flatbuf::Table child;
    PLUTO_ASSIGN_OR_RETURN(auto p, plan_field(*value_schema->children[i], child, next_dictionary_id, in_dictionary));
    value_plan.children.push_back(std::move(p));
    children.push_back(std::move(child));
  }
  field.tables(5, std::move(children));
  if (plan.layout == Layout::dictionary) {
    plan.values = std::make_unique<Plan>(std::move(value_plan));
    return plan;
  }
  return value_plan;
}

// ---- record batch bodies ------------------------------------------------------------------------

template <typename T>
T load(const void* base, int64_t index) {
  T v;
  std::memcpy(&v, static_cast<const char*>(base) + index * static_cast<int64_t>(sizeof(T)), sizeof(T));
  return v;
}

int64_t count_nulls(const uint8_t* bits, int64_t start, int64_t length) {
  if (bits == nullptr) return 0;
  int64_t valid = 0;
  int64_t i = start;
  const int64_t end = start + length;
  for (; i < end && i % 8 != 0; ++i) valid += (bits[i / 8] >> (i % 8)) & 1U;
  for (; i + 64 <= end; i += 64) valid += std::popcount(load<uint64_t>(bits + i / 8, 0));
  for (; i + 8 <= end; i += 8) valid += std::popcount(static_cast<unsigned>(bits[i / 8]));
  for (; i < end; ++i) valid += (bits[i / 8] >> (i % 8)) & 1U;
  return length - valid;
}

struct DictionaryUse {
  const Plan* values;
  int64_t id;
  const ArrowArray* array;
};

// One RecordBatch: field nodes, buffer descriptors and the body, each buffer padded to 8 bytes.
class BatchBody {
 public:
  std::string body;
  std::string nodes;
  std::string buffers;
  uint32_t node_count = 0;
  uint32_t buffer_count = 0;
  std::vector<DictionaryUse> dictionaries;

  Status add(const Plan& plan, const ArrowArray& a, int64_t start, int64_t length);

  flatbuf::Table record_batch(int64_t length) const {
    flatbuf::Table rb;
    rb.i64(0, length).structs(1, nodes, node_count, 8).structs(2, buffers, buffer_count, 8);
    return rb;
  }

 private:
  void node(int64_t length, int64_t nulls) {
    append_i64(nodes, length);
    append_i64(nodes, nulls);
    ++node_count;
  }
  // Reserves a buffer of n bytes in the body; returns its offset there.
  size_t buffer(size_t n) {
    const size_t at = body.size();
    append_i64(buffers, static_cast<int64_t>(at));
    append_i64(buffers, static_cast<int64_t>(n));
    ++buffer_count;
    body.resize(at + ((n + 7) & ~size_t{7}), '\0');
    return at;
  }
  void copy_buffer(const void* data, size_t n) {
    const size_t at = buffer(n);
    if (n > 0) std::memcpy(body.data() + at, data, n);
  }
  void bits(const void* src, int64_t start, int64_t length) {
    if (length == 0) return copy_buffer(nullptr, 0);
    const auto n = static_cast<size_t>((length + 7) / 8);
    const auto* in = static_cast<const uint8_t*>(src);
    if (start % 8 == 0) return copy_buffer(in + start / 8, n);
    const size_t at = buffer(n);
    auto* out = reinterpret_cast<uint8_t*>(body.data() + at);
    for (int64_t i = 0; i < length; ++i) {
      const int64_t j = start + i;
      if (((in[j / 8] >> (j % 8)) & 1U) != 0) out[i / 8] = static_cast<uint8_t>(out[i / 8] | (1U << (i % 8)));
    }
  }
  // The field node and the validity buffer (empty when there are no nulls).
  void validity(const ArrowArray& a, int64_t phys, int64_t length) {
    const auto* v = static_cast<const uint8_t*>(a.n_buffers > 0 ? a.buffers[0] : nullptr);
    const bool whole = phys == a.offset && length == a.length && a.null_count >= 0;
    const int64_t nulls = v == nullptr ? 0 : whole ? a.null_count : count_nulls(v, phys, length);
    node(length, nulls);
    if (nulls == 0) {
      buffer(0);
    } else {
      bits(v, phys, length);
    }
  }
  // int32 or int64 offsets [phys, phys+length], rebased to start at 0; returns the child range.
  template <typename O>
  std::pair<int64_t, int64_t> offsets(const void* src, int64_t phys, int64_t length) {
    const size_t at = buffer(static_cast<size_t>(length + 1) * sizeof(O));
    if (length == 0 || src == nullptr) return {0, 0};
    const O first = load<O>(src, phys);
    for (int64_t i = 0; i <= length; ++i) {
      const O v = static_cast<O>(load<O>(src, phys + i) - first);
      std::memcpy(body.data() + at + static_cast<size_t>(i) * sizeof(O), &v, sizeof(O));
    }
    return {first, static_cast<int64_t>(load<O>(src, phys + length)) - first};
  }
  Status views(const ArrowArray& a, int64_t phys, int64_t length);
  static void append_i64(std::string& out, int64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }
};

Status BatchBody::views(const ArrowArray& a, int64_t phys, int64_t length) {
  // Each view: int32 size, then the bytes inline (size <= 12) or a 4-byte prefix, buffer index, offset.
  const auto* v = static_cast<const uint8_t*>(a.buffers[1]);
  auto value = [&](int64_t i) -> std::string_view {
    const uint8_t* view = v + 16 * i;
    const auto size = load<int32_t>(view, 0);
    if (size <= 12) return {reinterpret_cast<const char*>(view + 4), static_cast<size_t>(size)};
    const auto buf = load<int32_t>(view + 8, 0);
    const auto off = load<int32_t>(view + 12, 0);
    return {static_cast<const char*>(a.buffers[2 + buf]) + off, static_cast<size_t>(size)};
  };
  int64_t total = 0;
  for (int64_t i = phys; i < phys + length; ++i) total += static_cast<int64_t>(value(i).size());
  if (total > std::numeric_limits<int32_t>::max()) {
    return Error(ErrorCode::too_large, "over 2 GiB of strings in one batch");
  }
  const size_t off_at = buffer(static_cast<size_t>(length + 1) * 4);
  const size_t data_at = buffer(static_cast<size_t>(total));
  int32_t pos = 0;
  std::memcpy(body.data() + off_at, &pos, 4);
  for (int64_t i = 0; i < length; ++i) {
    const auto s = value(phys + i);
    if (!s.empty()) std::memcpy(body.data() + data_at + static_cast<size_t>(pos), s.data(), s.size());
    pos += static_cast<int32_t>(s.size());
    std::memcpy(body.data() + off_at + 4 * static_cast<size_t>(i + 1), &pos, 4);
  }
  return {};
}

int64_t buffers_of(Layout layout) {
  switch (layout) {
    case Layout::null: return 0;
    case Layout::struct_:
    case Layout::fixed_list:
    case Layout::sparse_union: return 1;
    case Layout::binary:
    case Layout::large_binary:
    case Layout::binary_view: return 3;
    default: return 2;
  }
}

// `bytes` into buffer `p`; null for an absent buffer (only ever with nothing to read).
const char* at(const void* p, int64_t bytes) {
  return p == nullptr ? nullptr : static_cast<const char*>(p) + bytes;
}

Status BatchBody::add(const Plan& plan, const ArrowArray& a, int64_t start, int64_t length) {
  const int64_t phys = a.offset + start;
  auto child = [&](size_t i) -> const ArrowArray& { return *a.children[i]; };
  if (plan.children.size() != static_cast<size_t>(a.n_children) || a.n_buffers < buffers_of(plan.layout) ||
      phys + length > a.offset + a.length) {
    return Error(ErrorCode::internal, "DuckDB's Arrow array does not match its schema");
  }
  switch (plan.layout) {
    case Layout::null: node(length, length); return {};
    case Layout::fixed:
      validity(a, phys, length);
      copy_buffer(at(a.buffers[1], phys * plan.width), static_cast<size_t>(length * plan.width));
      return {};
    case Layout::boolean:
      validity(a, phys, length);
      bits(a.buffers[1], phys, length);
      return {};
    case Layout::binary:
    case Layout::large_binary: {
      validity(a, phys, length);
      auto [first, size] = plan.layout == Layout::binary ? offsets<int32_t>(a.buffers[1], phys, length)
                                                         : offsets<int64_t>(a.buffers[1], phys, length);
      copy_buffer(size > 0 ? at(a.buffers[2], first) : nullptr, static_cast<size_t>(size));
      return {};
    }
    case Layout::binary_view: validity(a, phys, length); return views(a, phys, length);
    case Layout::list:
    case Layout::large_list: {
      validity(a, phys, length);
      auto [first, size] = plan.layout == Layout::list ? offsets<int32_t>(a.buffers[1], phys, length)
                                                       : offsets<int64_t>(a.buffers[1], phys, length);
      return add(plan.children[0], child(0), first, size);
    }
    case Layout::fixed_list:
      validity(a, phys, length);
      return add(plan.children[0], child(0), phys * plan.width, length * plan.width);
    case Layout::struct_:
      validity(a, phys, length);
      for (size_t i = 0; i < plan.children.size(); ++i) PLUTO_TRY(add(plan.children[i], child(i), phys, length));
      return {};
    case Layout::sparse_union:
      node(length, 0);
      copy_buffer(at(a.buffers[0], phys), static_cast<size_t>(length));
      for (size_t i = 0; i < plan.children.size(); ++i) PLUTO_TRY(add(plan.children[i], child(i), phys, length));
      return {};
    case Layout::dense_union:
      // Offsets point into whole children, so the children are written whole.
      node(length, 0);
      copy_buffer(at(a.buffers[0], phys), static_cast<size_t>(length));
      copy_buffer(at(a.buffers[1], phys * 4), static_cast<size_t>(length) * 4);
      for (size_t i = 0; i < plan.children.size(); ++i) {
        PLUTO_TRY(add(plan.children[i], child(i), 0, child(i).length));
      }
      return {};
    case Layout::dictionary:
      if (a.dictionary == nullptr) return Error(ErrorCode::internal, "DuckDB's dictionary array has no values");
      validity(a, phys, length);
      copy_buffer(at(a.buffers[1], phys * plan.width), static_cast<size_t>(length * plan.width));
      dictionaries.push_back({plan.values.get(), plan.dictionary_id, a.dictionary});
      return {};
  }
  return Error(ErrorCode::internal, "unknown Arrow layout");
}

// ---- messages -----------------------------------------------------------------------------------

constexpr size_t kFlushBytes = 64 * 1024;

class StreamOut {
 public:
  explicit StreamOut(const Sink& sink) : sink_(sink) {}

  Status message(uint8_t type, flatbuf::Table header, const std::string& body) {
    flatbuf::Table m;
    m.i16(0, kMetadataV5).u8(1, type).table(2, std::move(header)).i64(3, static_cast<int64_t>(body.size()));
    const std::string meta = m.finish();  // a multiple of 8: the body starts 8-aligned
    append_u32(0xFFFFFFFFU);
    append_u32(static_cast<uint32_t>(meta.size()));
    buf_ += meta;
    if (body.size() >= kFlushBytes) {
      PLUTO_TRY(flush());
      return sink_(body);
    }
    buf_ += body;
    return buf_.size() >= kFlushBytes ? flush() : Status{};
  }
  Status end() {
    append_u32(0xFFFFFFFFU);
    append_u32(0);
    return flush();
  }
  Status flush() {
    if (buf_.empty()) return {};
    auto st = sink_(buf_);
    buf_.clear();
    return st;
  }

 private:
  void append_u32(uint32_t v) { buf_.append(reinterpret_cast<const char*>(&v), 4); }
  const Sink& sink_;
  std::string buf_;
};

// ---- the stream ---------------------------------------------------------------------------------

struct StreamSchema {
  std::vector<Plan> columns;
  flatbuf::Table schema;
};

// Plans every column of `root` (a struct schema: one child per column); `column_error` turns a
// column's index and the reason it cannot be written into the error to return.
Result<StreamSchema> plan_schema(const ArrowSchema& root,
                                 const std::function<Error(size_t, const std::string&)>& column_error) {
  StreamSchema out;
  std::vector<flatbuf::Table> fields;
  int64_t next_dictionary_id = 0;
  for (int64_t i = 0; i < root.n_children; ++i) {
    flatbuf::Table field;
    auto plan = plan_field(*root.children[i], field, next_dictionary_id, false);
    if (!plan.ok()) return column_error(static_cast<size_t>(i), plan.error().message);
    out.columns.push_back(std::move(plan).value());
    fields.push_back(std::move(field));
  }
  out.schema.i16(0, 0).tables(1, std::move(fields));  // Endianness::Little
  return out;
}

class IpcStream {
 public:
  IpcStream(StreamSchema schema, const Sink& sink) : schema_(std::move(schema)), out_(sink) {}

  Status begin() { return out_.message(header_type::schema, std::move(schema_.schema), std::string()); }

  // One record batch from `root`, a struct array with one child per column, preceded by the
  // dictionaries it uses that differ from the ones last sent.
  Status batch(const ArrowArray& root) {
    if (root.n_children != static_cast<int64_t>(schema_.columns.size())) {
      return Error(ErrorCode::internal, "an Arrow batch does not match its schema");
    }
    BatchBody batch;
    for (size_t c = 0; c < schema_.columns.size(); ++c) {
      PLUTO_TRY(batch.add(schema_.columns[c], *root.children[c], root.offset, root.length));
    }
    for (const auto& d : batch.dictionaries) {
      BatchBody dict;
      PLUTO_TRY(dict.add(*d.values, *d.array, 0, d.array->length));
      std::string key = dict.nodes + dict.buffers + dict.body;
      const auto id = static_cast<size_t>(d.id);
      if (sent_dictionaries_.size() <= id) sent_dictionaries_.resize(id + 1);
      if (sent_dictionaries_[id] == key) continue;
      flatbuf::Table header;
      header.i64(0, d.id).table(1, dict.record_batch(d.array->length)).boolean(2, false);
      PLUTO_TRY(out_.message(header_type::dictionary_batch, std::move(header), dict.body));
      sent_dictionaries_[id] = std::move(key);
    }
    return out_.message(header_type::record_batch, batch.record_batch(root.length), batch.body);
  }

  Status end() { return out_.end(); }

 private:
  StreamSchema schema_;
  StreamOut out_;
  // The last dictionary sent per id: DuckDB attaches an ENUM's whole dictionary to every chunk, so
  // it is sent once; a different one is sent as a replacement (allowed in the streaming format).
  std::vector<std::optional<std::string>> sent_dictionaries_;
};

// ---- DuckDB results -----------------------------------------------------------------------------

Error unsupported_column(const std::string& column, const std::string& type, const std::string& why) {
  std::string hint =
      "CAST the column to a supported type in the query, e.g. CAST(" + quote_identifier(column) + " AS VARCHAR)";
  if (why.find("'+v") != std::string::npos) hint += ", or SET arrow_output_list_view = false";
  return Error(ErrorCode::invalid_argument,
               "cannot write column \"" + column + "\" of type " + type + " as Arrow: " + why, hint);
}

Result<StreamSchema> result_schema(QueryResult& result, duckdb_arrow_options options) {
  const idx_t n = result.column_count();
  std::vector<LogicalType> types;
  std::vector<duckdb_logical_type> raw_types;
  std::vector<std::string> names;
  std::vector<const char*> raw_names;
  for (idx_t i = 0; i < n; ++i) {
    types.push_back(result.column_type(i));
    raw_types.push_back(types.back().get());
    names.push_back(result.column_name(i));
  }
  for (const auto& name : names) raw_names.push_back(name.c_str());

  OwnedSchema schema;
  if (auto err = take_error(duckdb_to_arrow_schema(options, raw_types.data(), raw_names.data(), n, schema.get()))) {
    // Find the column DuckDB cannot export, to name it.
    for (idx_t i = 0; i < n; ++i) {
      OwnedSchema one;
      if (auto e = take_error(duckdb_to_arrow_schema(options, &raw_types[i], &raw_names[i], 1, one.get()))) {
        // The C API of 1.4 has no id for some types (TIME_NS); DuckDB's message names them.
        std::string type = types[i].name();
        constexpr std::string_view kUnsupported = "Unsupported Arrow type ";
        if (type == "UNKNOWN" && e->starts_with(kUnsupported)) type = e->substr(kUnsupported.size());
        return unsupported_column(names[i], type, "DuckDB cannot export it to Arrow (" + *e + ")");
      }
    }
    return Error(ErrorCode::sql_error, "DuckDB cannot export the result to Arrow: " + *err);
  }
  if (schema.get()->n_children != static_cast<int64_t>(n)) {
    return Error(ErrorCode::internal, "DuckDB's Arrow schema has " + std::to_string(schema.get()->n_children) +
                                          " fields for " + std::to_string(n) + " columns");
  }
  return plan_schema(*schema.get(), [&](size_t i, const std::string& why) {
    return unsupported_column(names[i], types[i].name(), "DuckDB exports it with " + why + ", which is not supported");
  });
}

}  // namespace

Status check_arrow_columns(QueryResult& result) {
  ArrowOptions options(result);
  PLUTO_ASSIGN_OR_RETURN(auto schema, result_schema(result, options.get()));
  (void)schema;
  return {};
}

Result<WriteSummary> write_arrow_stream(QueryResult& result, const WriteOptions& options, const Sink& sink) {
  if (options.skip_rows != 0 || options.max_rows != UINT64_MAX) {
    return Error(ErrorCode::invalid_argument, "the Arrow writer writes whole results (no paging)");
  }
  WriteSummary summary;
  summary.columns = result.columns();
  ArrowOptions arrow_options(result);
  PLUTO_ASSIGN_OR_RETURN(auto schema, result_schema(result, arrow_options.get()));
  IpcStream stream(std::move(schema), sink);
  PLUTO_TRY(stream.begin());
  while (true) {
    if (options.should_stop != nullptr && (*options.should_stop)()) {
      return Error(ErrorCode::cancelled, "cancelled while writing the result");
    }
    auto chunk = result.next_chunk();
    if (!chunk) break;
    const auto rows = chunk->size();
    if (rows == 0) continue;  // DuckDB may end a stream with an empty chunk
    OwnedArray array;
    if (auto err = take_error(duckdb_data_chunk_to_arrow(arrow_options.get(), chunk->get(), array.get()))) {
      return Error(ErrorCode::sql_error, "DuckDB cannot convert the result to Arrow: " + *err);
    }
    PLUTO_TRY(stream.batch(*array.get()));
    summary.rows_written += rows;
  }
  if (auto err = result.stream_error()) return *err;
  summary.rows_total = summary.rows_written;
  PLUTO_TRY(stream.end());
  return summary;
}

Status write_arrow_ipc(const ArrowSchema& schema, const std::vector<const ArrowArray*>& batches, const Sink& sink) {
  if (std::string_view(schema.format != nullptr ? schema.format : "") != "+s") {
    return Error(ErrorCode::invalid_argument, "an Arrow stream's schema must be a struct ('+s')");
  }
  PLUTO_ASSIGN_OR_RETURN(auto plan, plan_schema(schema, [&](size_t i, const std::string& why) {
                           const char* name = schema.children[i]->name;
                           return Error(ErrorCode::invalid_argument,
                                        "cannot write field \"" + std::string(name != nullptr ? name : "") +
                                            "\" as Arrow IPC: " + why + " is not supported");
                         }));
  IpcStream stream(std::move(plan), sink);
  PLUTO_TRY(stream.begin());
  for (const ArrowArray* b : batches) PLUTO_TRY(stream.batch(*b));
  return stream.end();
}

}  // namespace pluto::warehouse
