// The RAM and disk tiers of the KV cache (kv/ram_tier.h, kv/disk_tier.h): round trips, LRU and
// capacity, a restart finding its pages, and every way a record file can be damaged (bit flip,
// truncation, empty, another model, another format version, a writer killed mid-record) being
// skipped and deleted rather than loaded or crashing; the prefetcher that reads disk pages
// ahead on its own thread (kv/disk_prefetcher.h).
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>

#include "kv/crc32c.h"
#include "kv/disk_prefetcher.h"
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

TEST_F(DiskTierTest, CapCoversEveryModelsPagesLeastRecentlyUsedFirst) {
  std::mt19937 rng(10);
  const Hash128 other_model{0x9999, 0x7777};
  const int64_t one = static_cast<int64_t>(84 + 4 * kPageSize + kPageBytes + 4);  // a file
  std::vector<std::shared_ptr<PageRecord>> a, b;
  std::vector<std::string> a_paths;
  {  // model A (another model, served earlier) leaves 5 pages, used an hour ago
    auto disk = open(8 * one, other_model);
    for (int i = 0; i < 5; ++i) {
      a.push_back(make_record(rng, Hash128{static_cast<uint64_t>(i), 7}, 0));
      disk->enqueue(a.back());
    }
    disk->flush();
    for (int i = 0; i < 5; ++i) {
      a_paths.push_back(disk->path_of(a[static_cast<size_t>(i)]->chain));
      fs::last_write_time(a_paths.back(), fs::file_time_type::clock::now() - std::chrono::hours(1) +
                                              std::chrono::seconds(i));
    }
  }
  auto disk = open(8 * one);  // this model, the same 8-page cap
  EXPECT_EQ(disk->other_models_bytes(), 5 * one);
  EXPECT_EQ(disk->num_pages(), 0);
  for (int i = 0; i < 5; ++i) {
    b.push_back(make_record(rng, Hash128{static_cast<uint64_t>(i), 8}, 0));
    disk->enqueue(b.back());
  }
  disk->flush();
  // 10 pages for 8 places: A's two oldest went, nothing of this model's.
  EXPECT_EQ(disk->num_pages(), 5);
  EXPECT_EQ(disk->other_models_bytes(), 3 * one);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(fs::exists(a_paths[static_cast<size_t>(i)]), i >= 2) << "model A's page " << i;
  for (auto& r : b) EXPECT_TRUE(fs::exists(disk->path_of(r->chain)));
  disk.reset();

  // Back to model A: its 3 remaining pages are its own now, this model's 5 count against the
  // cap. A's pages are older than all of B's, so A's new pages push out A's oldest first.
  auto back = open(8 * one, other_model);
  EXPECT_EQ(back->num_pages(), 3);
  EXPECT_EQ(back->other_models_bytes(), 5 * one);
  auto fresh = make_record(rng, Hash128{99, 7}, 0);
  back->enqueue(fresh);
  back->flush();
  EXPECT_EQ(back->num_pages(), 3);
  EXPECT_FALSE(back->contains(a[2]->chain));
  EXPECT_TRUE(back->contains(fresh->chain));
  EXPECT_EQ(back->other_models_bytes(), 5 * one);
  // The directory as a whole stays within the cap.
  int64_t total = 0;
  for (auto& f : fs::recursive_directory_iterator(root_))
    if (f.is_regular_file()) total += static_cast<int64_t>(f.file_size());
  EXPECT_LE(total, 8 * one);
}

// Waits until nothing is queued or in flight (bounded: a stuck reader fails the test).
void drain(DiskPrefetcher& p) {
  for (int i = 0; i < 1000 && p.busy(); ++i) p.wait_for_read(std::chrono::milliseconds(10));
  ASSERT_FALSE(p.busy());
}

TEST_F(DiskTierTest, PrefetcherReadsAheadAndHandsEachPageOverOnce) {
  std::mt19937 rng(7);
  auto disk = open();
  std::vector<std::shared_ptr<PageRecord>> r;
  std::vector<Hash128> chains;
  for (int i = 0; i < 12; ++i) {
    r.push_back(make_record(rng, Hash128{static_cast<uint64_t>(i), 4}, 0));
    disk->enqueue(r.back());
    chains.push_back(r.back()->chain);
  }
  disk->flush();
  DiskPrefetcher p(disk.get(), 1 << 20);
  // The wake-up callback (reader thread) comes when the queue has run dry, with everything
  // landed; not once per page.
  std::atomic<int> calls{0};
  std::atomic<bool> last_saw_all{false};
  p.set_on_read([&] {
    bool all = true;
    for (const Hash128& c : chains) all &= p.state(c) == DiskPrefetcher::State::kReady;
    last_saw_all = all;
    ++calls;
  });
  EXPECT_EQ(p.state(chains[0]), DiskPrefetcher::State::kNone);
  EXPECT_EQ(p.take(chains[0]), nullptr);
  EXPECT_FALSE(p.wait_for_read(std::chrono::milliseconds(1)));  // nothing queued
  p.request(chains);
  p.request(chains);  // asked twice: read once
  drain(p);
  // The callback may still be on its way when the queue reads empty.
  for (int i = 0; i < 1000 && !last_saw_all.load(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(last_saw_all.load());
  EXPECT_GE(calls.load(), 1);
  EXPECT_LT(calls.load(), 12);
  EXPECT_EQ(disk->lookups(), 12);
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(p.state(chains[i]), DiskPrefetcher::State::kReady) << i;
    PageRecordPtr got = p.take(chains[i]);
    ASSERT_NE(got, nullptr) << i;
    expect_same(*got, *r[i]);
    EXPECT_EQ(p.state(chains[i]), DiskPrefetcher::State::kNone);
    EXPECT_EQ(p.take(chains[i]), nullptr);
  }
  EXPECT_EQ(p.ready_bytes(), 0);
  // A page gone from the disk (evicted, deleted by hand) lands as nothing.
  fs::remove(disk->path_of(chains[3]));
  p.request(std::span<const Hash128>(&chains[3], 1));
  drain(p);
  EXPECT_EQ(p.state(chains[3]), DiskPrefetcher::State::kNone);
  EXPECT_FALSE(disk->contains(chains[3]));
}

TEST_F(DiskTierTest, PrefetcherDropsTheOldestLandedPagesBeyondItsBound) {
  std::mt19937 rng(8);
  auto disk = open();
  std::vector<Hash128> chains;
  for (int i = 0; i < 10; ++i) {
    auto rec = make_record(rng, Hash128{static_cast<uint64_t>(i), 5}, 0);
    disk->enqueue(rec);
    chains.push_back(rec->chain);
  }
  disk->flush();
  DiskPrefetcher p(disk.get(), 4 * static_cast<int64_t>(kPageBytes));  // four pages
  p.request(chains);
  drain(p);
  EXPECT_EQ(p.dropped(), 6);
  EXPECT_EQ(p.ready_bytes(), 4 * static_cast<int64_t>(kPageBytes));
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(p.state(chains[static_cast<size_t>(i)]),
              i < 6 ? DiskPrefetcher::State::kNone : DiskPrefetcher::State::kReady) << i;
  // A dropped page is still on disk: asked again, it is read again.
  EXPECT_TRUE(disk->contains(chains[0]));
  p.request(std::span<const Hash128>(&chains[0], 1));
  drain(p);
  EXPECT_NE(p.take(chains[0]), nullptr);
  // A clear forgets what landed and what was queued.
  p.clear();
  EXPECT_EQ(p.ready_bytes(), 0);
  for (const Hash128& c : chains) EXPECT_EQ(p.state(c), DiskPrefetcher::State::kNone);
}

TEST_F(DiskTierTest, PrefetcherRefusesADamagedPage) {
  std::mt19937 rng(9);
  auto disk = open();
  auto rec = make_record(rng, Hash128{1, 6}, 0);
  disk->enqueue(rec);
  disk->flush();
  std::vector<uint8_t> b = read_bytes(disk->path_of(rec->chain));
  b[b.size() - 10] ^= 0x40;  // payload bit: only the full read's checksum sees it
  write_bytes(disk->path_of(rec->chain), b, b.size());
  DiskPrefetcher p(disk.get(), 1 << 20);
  p.request(std::span<const Hash128>(&rec->chain, 1));
  drain(p);
  EXPECT_EQ(p.take(rec->chain), nullptr);
  EXPECT_FALSE(disk->contains(rec->chain));
  EXPECT_EQ(disk->invalid_files(), 1);
}

}  // namespace
}  // namespace agentserve
