// The RAM and disk tiers of the KV cache (kv/ram_tier.h, kv/disk_tier.h): round trips, LRU and
// capacity, a restart finding its pages, and every way a record file can be damaged (bit flip,
// truncation, empty, another model, another format version, a writer killed mid-record) being
// skipped and deleted rather than loaded or crashing.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "kv/crc32c.h"
#include "kv/disk_tier.h"
#include "kv/ram_tier.h"

namespace agentserve {
namespace {

namespace fs = std::filesystem;

constexpr int32_t kPageSize = 4;
constexpr size_t kPageBytes = 96;
const Hash128 kModel{0x1234, 0x5678};

std::shared_ptr<PageRecord> make_record(std::mt19937& rng, const Hash128& parent, int32_t depth) {
  auto r = std::make_shared<PageRecord>();
  r->parent = parent;
  r->depth = depth;
  for (int i = 0; i < kPageSize; ++i) r->tokens.push_back(static_cast<int32_t>(rng() % 1000));
  r->chain = chain_hash(parent, r->tokens);
  for (size_t i = 0; i < kPageBytes; ++i) r->bytes.push_back(static_cast<uint8_t>(rng()));
  return r;
}

void expect_same(const PageRecord& a, const PageRecord& b) {
  EXPECT_EQ(a.chain, b.chain);
  EXPECT_EQ(a.parent, b.parent);
  EXPECT_EQ(a.depth, b.depth);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.bytes, b.bytes);
}

TEST(Crc32c, KnownVectorAndContinuation) {
  const char* s = "123456789";
  EXPECT_EQ(crc32c(0, s, 9), 0xe3069283u);  // the standard CRC-32C check value
  EXPECT_EQ(crc32c(crc32c(0, s, 4), s + 4, 5), 0xe3069283u);
  std::vector<uint8_t> zeros(32, 0);
  EXPECT_EQ(crc32c(0, zeros.data(), zeros.size()), 0x8a9136aau);  // RFC 3720 B.4
}

TEST(RamTier, TakeReturnsIdenticalRecordAndRemovesIt) {
  std::mt19937 rng(1);
  RamTier ram(1 << 20);
  auto r = make_record(rng, Hash128{1, 2}, 0);
  EXPECT_TRUE(ram.put(r).empty());
  EXPECT_TRUE(ram.contains(r->chain));
  EXPECT_FALSE(ram.contains(Hash128{r->chain.lo, r->chain.hi ^ 1}));  // same low half, other key
  EXPECT_EQ(ram.take(Hash128{r->chain.lo, r->chain.hi ^ 1}), nullptr);
  PageRecordPtr got = ram.take(r->chain);
  ASSERT_NE(got, nullptr);
  expect_same(*got, *r);
  EXPECT_FALSE(ram.contains(r->chain));
  EXPECT_EQ(ram.num_pages(), 0);
  EXPECT_EQ(ram.num_bytes(), 0);
  EXPECT_EQ(ram.lookups(), 2);
  EXPECT_EQ(ram.hits(), 1);
}

TEST(RamTier, DropsLeastRecentlyUsedWithinCapacity) {
  std::mt19937 rng(2);
  const int64_t one = static_cast<int64_t>(kPageBytes + kPageSize * sizeof(int32_t));
  RamTier ram(3 * one);
  std::vector<std::shared_ptr<PageRecord>> r;
  for (int i = 0; i < 5; ++i) r.push_back(make_record(rng, Hash128{static_cast<uint64_t>(i), 9}, 0));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(ram.put(r[i]).empty());
  // Re-putting r[0] makes it the most recent: r[1] is now the oldest.
  EXPECT_TRUE(ram.put(r[0]).empty());
  auto dropped = ram.put(r[3]);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0]->chain, r[1]->chain);
  dropped = ram.put(r[4]);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0]->chain, r[2]->chain);
  EXPECT_EQ(ram.num_pages(), 3);
  EXPECT_LE(ram.num_bytes(), 3 * one);
  EXPECT_TRUE(ram.contains(r[0]->chain) && ram.contains(r[3]->chain) && ram.contains(r[4]->chain));
  // A record larger than the whole tier is handed straight back.
  RamTier tiny(one - 1);
  auto back = tiny.put(r[0]);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(tiny.num_pages(), 0);
}

class DiskTierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() /
             ("as_disk_tier_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::unique_ptr<DiskTier> open(int64_t capacity = 1 << 20, Hash128 model = kModel) {
    DiskTierOptions o;
    o.root_dir = root_;
    o.capacity_bytes = capacity;
    o.model_fingerprint = model;
    o.page_size = kPageSize;
    o.page_bytes = kPageBytes;
    o.sync = false;
    auto t = DiskTier::open(o);
    EXPECT_TRUE(t.ok());
    return std::move(*t);
  }
  static std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static void write_bytes(const std::string& path, const std::vector<uint8_t>& b, size_t n) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(std::min(n, b.size())));
  }
  std::string root_;
};

TEST_F(DiskTierTest, PagesSurviveARestart) {
  std::mt19937 rng(3);
  std::vector<std::shared_ptr<PageRecord>> recs;
  Hash128 parent{5, 6};
  for (int i = 0; i < 20; ++i) {
    recs.push_back(make_record(rng, parent, i));
    parent = recs.back()->chain;
  }
  {
    auto disk = open();
    for (auto& r : recs) EXPECT_TRUE(disk->enqueue(r));
    EXPECT_FALSE(disk->enqueue(recs[0]));  // already queued or stored
    // Readable while queued, and after the write.
    PageRecordPtr queued = disk->read(recs[0]->chain);
    ASSERT_NE(queued, nullptr);
    disk->flush();
    EXPECT_EQ(disk->num_pages(), 20);
    EXPECT_EQ(disk->writes(), 20);
    EXPECT_TRUE(fs::exists(disk->path_of(recs[7]->chain)));
  }  // "shut down"
  auto disk = open();
  EXPECT_EQ(disk->num_pages(), 20);
  EXPECT_EQ(disk->invalid_files(), 0);
  for (auto& r : recs) {
    EXPECT_TRUE(disk->contains(r->chain));
    PageRecordPtr got = disk->read(r->chain);
    ASSERT_NE(got, nullptr);
    expect_same(*got, *r);
  }
  EXPECT_EQ(disk->read(Hash128{1, 1}), nullptr);
  EXPECT_EQ(disk->hits(), 20);
  EXPECT_EQ(disk->lookups(), 21);
  EXPECT_GT(disk->read_bytes_per_second(), 0);
  // Another model's tier in the same root sees none of them.
  auto other = open(1 << 20, Hash128{9, 9});
  EXPECT_EQ(other->num_pages(), 0);
  EXPECT_NE(other->dir(), disk->dir());
}

TEST_F(DiskTierTest, CapacityEvictsLeastRecentlyUsedFiles) {
  std::mt19937 rng(4);
  const int64_t file = static_cast<int64_t>(encode_page_file(*make_record(rng, {}, 0), kModel).size());
  auto disk = open(3 * file);
  std::vector<std::shared_ptr<PageRecord>> r;
  for (int i = 0; i < 3; ++i) {
    r.push_back(make_record(rng, Hash128{static_cast<uint64_t>(i), 1}, 0));
    disk->enqueue(r.back());
    disk->flush();
  }
  ASSERT_NE(disk->read(r[0]->chain), nullptr);  // r[1] becomes the oldest
  r.push_back(make_record(rng, Hash128{7, 1}, 0));
  disk->enqueue(r.back());
  disk->flush();
  EXPECT_EQ(disk->num_pages(), 3);
  EXPECT_LE(disk->num_bytes(), 3 * file);
  EXPECT_FALSE(disk->contains(r[1]->chain));
  EXPECT_FALSE(fs::exists(disk->path_of(r[1]->chain)));
  EXPECT_TRUE(disk->contains(r[0]->chain) && disk->contains(r[2]->chain) && disk->contains(r[3]->chain));
}

TEST_F(DiskTierTest, DamagedFilesAreSkippedDeletedAndNeverLoaded) {
  std::mt19937 rng(5);
  std::vector<std::shared_ptr<PageRecord>> recs;
  for (int i = 0; i < 9; ++i) recs.push_back(make_record(rng, Hash128{static_cast<uint64_t>(i), 2}, 0));
  std::vector<std::string> paths;
  {
    auto disk = open();
    for (auto& r : recs) {
      disk->enqueue(r);
      paths.push_back(disk->path_of(r->chain));
    }
    disk->flush();
  }
  auto path = [&](int i) { return paths[static_cast<size_t>(i)]; };
  const std::vector<uint8_t> good = read_bytes(path(0));
  const size_t header = 84 + 4 * kPageSize;
  ASSERT_EQ(good.size(), header + kPageBytes + 4);
  {  // 0: a flipped payload bit (the header is intact: found at startup, refused on read)
    std::vector<uint8_t> b = read_bytes(path(0));
    b[header + 10] ^= 0x10;
    write_bytes(path(0), b, b.size());
  }
  {  // 1: truncated mid-payload (kill -9 without the temp-and-rename protocol)
    std::vector<uint8_t> b = read_bytes(path(1));
    write_bytes(path(1), b, header + kPageBytes / 2);
  }
  {  // 2: truncated mid-header
    std::vector<uint8_t> b = read_bytes(path(2));
    write_bytes(path(2), b, 40);
  }
  write_bytes(path(3), {}, 0);  // 3: zero-length
  // 4: another model's record under this model's name (checksums valid)
  write_bytes(path(4), encode_page_file(*recs[4], Hash128{1, 2}), SIZE_MAX);
  // 5: another format version (checksums valid)
  write_bytes(path(5), encode_page_file(*recs[5], kModel, kDiskPageFormatVersion + 1), SIZE_MAX);
  {  // 6: a flipped header bit (a token)
    std::vector<uint8_t> b = read_bytes(path(6));
    b[80] ^= 1;
    write_bytes(path(6), b, b.size());
  }
  // 7: a writer killed mid-record: its temp file, half written, next to no final file.
  const std::string temp = path(7) + ".tmp.12345";
  write_bytes(temp, read_bytes(path(7)), header + 3);
  fs::remove(path(7));
  // 8 stays good.

  auto disk = open();
  EXPECT_EQ(disk->num_pages(), 2);  // 8, and 0 whose damage only the payload checksum sees
  EXPECT_EQ(disk->invalid_files(), 6);
  EXPECT_FALSE(fs::exists(temp));
  for (int i : {1, 2, 3, 4, 5, 6}) {
    EXPECT_FALSE(disk->contains(recs[static_cast<size_t>(i)]->chain)) << i;
    EXPECT_FALSE(fs::exists(path(i))) << i;
    EXPECT_EQ(disk->read(recs[static_cast<size_t>(i)]->chain), nullptr) << i;
  }
  EXPECT_FALSE(disk->contains(recs[7]->chain));
  EXPECT_EQ(disk->read(recs[0]->chain), nullptr);  // refused and deleted
  EXPECT_FALSE(disk->contains(recs[0]->chain));
  EXPECT_FALSE(fs::exists(path(0)));
  EXPECT_EQ(disk->invalid_files(), 7);
  PageRecordPtr ok = disk->read(recs[8]->chain);
  ASSERT_NE(ok, nullptr);
  expect_same(*ok, *recs[8]);
  // The refused pages can be written again.
  EXPECT_TRUE(disk->enqueue(recs[0]));
  disk->flush();
  ASSERT_NE(disk->read(recs[0]->chain), nullptr);
}

TEST_F(DiskTierTest, ClearForgetsStoredAndQueuedPages) {
  std::mt19937 rng(6);
  auto disk = open();
  std::vector<std::shared_ptr<PageRecord>> r;
  for (int i = 0; i < 30; ++i) {
    r.push_back(make_record(rng, Hash128{static_cast<uint64_t>(i), 3}, 0));
    disk->enqueue(r.back());
    if (i == 9) disk->flush();  // ten stored, the rest queued or in flight at the clear
  }
  disk->clear();
  disk->flush();
  EXPECT_EQ(disk->num_pages(), 0);
  EXPECT_EQ(disk->num_bytes(), 0);
  for (auto& x : r) {
    EXPECT_FALSE(disk->contains(x->chain));
    EXPECT_FALSE(fs::exists(disk->path_of(x->chain)));
  }
  disk.reset();
  EXPECT_EQ(open()->num_pages(), 0);  // nothing comes back after a restart either
}

}  // namespace
}  // namespace agentserve
