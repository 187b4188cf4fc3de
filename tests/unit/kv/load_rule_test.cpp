// The load-or-recompute rule of the KV tiers (kv/kv_tiers.h): a page on disk is read back only
// when reading it is expected to beat prefilling its tokens — optimistic until both rates are
// measured, then page_bytes / read rate < page_size / prefill rate — and the policy overrides
// (always, never). RAM pages are always taken.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <vector>

#include "kv/chain_hash.h"
#include "kv/kv_tiers.h"

namespace agentserve {
namespace {

namespace fs = std::filesystem;

constexpr int32_t kPageSize = 16;
constexpr size_t kPageBytes = 4096;
const Hash128 kModel{0xabc, 0xdef};

// Pages of a fake pool: bytes by page id.
struct FakePool {
  std::map<int32_t, std::vector<uint8_t>> pages;
  PageIo io() {
    return {[this](int32_t page, void* dst) { std::memcpy(dst, pages.at(page).data(), kPageBytes); },
            [this](int32_t page, const void* src) {
              pages[page].assign(static_cast<const uint8_t*>(src), static_cast<const uint8_t*>(src) + kPageBytes);
            }};
  }
};

struct Page {
  std::vector<int32_t> tokens;
  Hash128 parent, chain;
};

class LoadRule : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("as_load_rule_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    for (int p = 0; p < 4; ++p) {
      Page page;
      page.parent = p == 0 ? kModel : pages_.back().chain;
      for (int i = 0; i < kPageSize; ++i) page.tokens.push_back(p * 100 + i);
      page.chain = chain_hash(page.parent, page.tokens);
      pages_.push_back(page);
      pool_.pages[p].assign(kPageBytes, static_cast<uint8_t>(p + 1));
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Tiers with a disk tier only (no RAM), holding the four pages (written through).
  std::unique_ptr<KvTiers> tiers(DiskLoadPolicy policy) {
    KvTierOptions o;
    o.disk_dir = dir_.string();
    o.disk_bytes = 1 << 24;
    o.disk_sync = false;
    o.disk_load = policy;
    o.progress = false;
    auto t = std::make_unique<KvTiers>(o, kModel, kPageSize, kPageBytes, pool_.io());
    for (int p = 0; p < 4; ++p)
      t->on_insert({pages_[p].chain, pages_[p].parent, p, pages_[p].tokens, p});
    t->flush();
    return t;
  }
  bool fetch(KvTiers& t, int p, int32_t dst) {
    return t.fetch(pages_[p].chain, pages_[p].parent, p, pages_[p].tokens, dst);
  }

  fs::path dir_;
  FakePool pool_;
  std::vector<Page> pages_;
};

TEST_F(LoadRule, UnmeasuredLoadsThenFollowsTheRates) {
  auto t = tiers(DiskLoadPolicy::kAuto);
  ASSERT_NE(t->disk(), nullptr);
  // Nothing measured: loading is tried (and the read measures the disk).
  EXPECT_TRUE(t->disk_worth_loading());
  ASSERT_TRUE(fetch(*t, 0, 10));
  EXPECT_EQ(pool_.pages.at(10), pool_.pages.at(0));
  ASSERT_GT(t->disk()->read_bytes_per_second(), 0);
  // Still optimistic until the engine reports a prefill rate.
  EXPECT_TRUE(t->disk_worth_loading());

  // A prefill far slower than any disk (1e-3 tokens/s: 16,000 s a page): load.
  t->note_prefill_rate(1e-3);
  EXPECT_TRUE(t->disk_worth_loading());
  EXPECT_EQ(t->probe(pages_[1].chain), KvTiers::Probe::kOnDisk);
  EXPECT_TRUE(fetch(*t, 1, 11));

  // A prefill far faster than any disk (1e15 tokens/s): recompute. The first report of a rate
  // moves the average by a tenth, which already puts it far past the disk.
  t->note_prefill_rate(1e15);
  EXPECT_FALSE(t->disk_worth_loading());
  EXPECT_EQ(t->probe(pages_[2].chain), KvTiers::Probe::kAbsent);
  EXPECT_FALSE(fetch(*t, 2, 12)) << "a page is recomputed rather than read";
  EXPECT_EQ(pool_.pages.count(12), 0u);

}

TEST_F(LoadRule, NearTheBoundaryTheFasterWayWins) {
  // The prefill rate at which recomputing a page takes as long as reading it is
  // page_size * read_rate / page_bytes; half of it makes reading faster, twice it recomputing.
  for (const double factor : {0.5, 2.0}) {
    auto t = tiers(DiskLoadPolicy::kAuto);
    ASSERT_TRUE(fetch(*t, 0, 10));  // measures the read rate
    const double even = kPageSize * t->disk()->read_bytes_per_second() / kPageBytes;
    t->note_prefill_rate(even * factor);
    EXPECT_EQ(t->disk_worth_loading(), factor < 1) << "prefill at " << factor << "x the break-even rate";
    t.reset();
    fs::remove_all(dir_);  // the next round measures a fresh disk tier
  }
}

TEST_F(LoadRule, PoliciesOverrideTheRates) {
  auto always = tiers(DiskLoadPolicy::kAlways);
  always->note_prefill_rate(1e15);
  EXPECT_TRUE(always->disk_worth_loading());
  EXPECT_TRUE(fetch(*always, 0, 10));
  always.reset();
  auto never = tiers(DiskLoadPolicy::kNever);
  never->note_prefill_rate(1e-3);
  EXPECT_FALSE(never->disk_worth_loading());
  EXPECT_FALSE(fetch(*never, 0, 11));
}

TEST_F(LoadRule, RamPagesAreTakenWhateverTheRates) {
  KvTierOptions o;
  o.ram_bytes = 1 << 20;
  o.progress = false;
  KvTiers t(o, kModel, kPageSize, kPageBytes, pool_.io());
  t.note_prefill_rate(1e15);
  t.on_evict({pages_[0].chain, pages_[0].parent, 0, pages_[0].tokens, 0});
  EXPECT_EQ(t.probe(pages_[0].chain), KvTiers::Probe::kReady);
  EXPECT_TRUE(fetch(t, 0, 20));
  EXPECT_EQ(pool_.pages.at(20), pool_.pages.at(0));
}

}  // namespace
}  // namespace agentserve
