// kv_store + paged_attention against a naive dense attention, on random mixed batches:
// several sequences with cached history, prefill chunks and decode tokens in one step,
// pages drawn from a shuffled pool, lengths crossing page boundaries.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

#include "backend/cpu/kernels/attention.h"
#include "test_util.h"

namespace agentserve::cpu {
namespace {

using testing::Rng;

class AttentionTest : public testing::TierTest {};

struct Sequence {
  int32_t history = 0;  // positions already cached before the step
  int32_t step = 0;     // tokens in the step
  std::vector<int32_t> pages;
  // Dense K/V of every position: [layer][pos][kv_head][D], already rounded to the pool dtype.
  std::vector<std::vector<float>> k, v;
};

struct Scenario {
  KvGeometry g;
  int32_t num_heads = 0;
  std::vector<Sequence> seqs;
  std::vector<uint8_t> pool_bytes;
  Batch step;
};

float round_to(DType dtype, float f) {
  return dtype == DType::kBF16 ? bf16_to_f32(f32_to_bf16(f)) : f;
}

Scenario make_scenario(Rng& rng, int32_t head_dim, DType dtype) {
  Scenario s;
  KvGeometry& g = s.g;
  const int32_t page_sizes[] = {16, 16, 5, 32, 1, 7};
  g.page_size = page_sizes[rng.integer(0, 5)];
  g.num_layers = static_cast<int32_t>(rng.integer(1, 3));
  g.num_kv_heads = static_cast<int32_t>(rng.integer(1, 4));
  g.head_dim = head_dim;
  g.dtype = dtype;
  const int32_t groups[] = {1, 2, 3, 4, 7, 8};
  s.num_heads = g.num_kv_heads * groups[rng.integer(0, 5)];
  const int num_seqs = static_cast<int>(rng.integer(2, 6));
  int32_t total_pages = 0;
  for (int i = 0; i < num_seqs; ++i) {
    Sequence q;
    const int kind = i < 2 ? i : static_cast<int>(rng.integer(0, 1));  // at least one of each
    q.history = static_cast<int32_t>(rng.integer(0, 1) ? rng.integer(0, 3 * g.page_size)
                                                       : rng.integer(0, 300));
    if (kind == 0) {
      q.step = 1;  // decode
      q.history = std::max<int32_t>(q.history, rng.integer(0, 1) ? 1 : 0);
      // Long enough that its keys split into spans (256 positions) merged afterwards.
      if (rng.integer(0, 2) == 0) q.history = static_cast<int32_t>(rng.integer(250, 800));
    } else {
      q.step = static_cast<int32_t>(rng.integer(1, 45));  // prefill chunk
    }
    if (rng.integer(0, 4) == 0) q.history = (q.history / g.page_size) * g.page_size;  // boundary
    total_pages += (q.history + q.step + g.page_size - 1) / g.page_size;
    s.seqs.push_back(std::move(q));
  }
  g.num_pages = total_pages + static_cast<int32_t>(rng.integer(0, 5));
  std::vector<int32_t> ids(static_cast<size_t>(g.num_pages));
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), rng.gen);
  size_t next = 0;
  const size_t per_pos = static_cast<size_t>(g.num_kv_heads) * head_dim;
  for (Sequence& q : s.seqs) {
    const int32_t ctx = q.history + q.step;
    for (int32_t p = 0; p < (ctx + g.page_size - 1) / g.page_size; ++p)
      q.pages.push_back(ids[next++]);
    for (int32_t l = 0; l < g.num_layers; ++l) {
      std::vector<float> k = rng.normals(per_pos * static_cast<size_t>(ctx));
      std::vector<float> v = rng.normals(per_pos * static_cast<size_t>(ctx));
      for (auto& f : k) f = round_to(dtype, f);
      for (auto& f : v) f = round_to(dtype, f);
      q.k.push_back(std::move(k));
      q.v.push_back(std::move(v));
    }
  }
  s.pool_bytes.assign(g.num_pages * g.page_bytes(), 0xff);  // 0xffff.. is NaN in f32 and bf16
  return s;
}

// Writes positions [from, to) of every sequence for every layer with kv_store, in one batch.
void store_range(Scenario& s, bool history) {
  Batch b;
  std::vector<float> k, v;
  const KvGeometry& g = s.g;
  const size_t per_pos = static_cast<size_t>(g.num_kv_heads) * g.head_dim;
  std::vector<int32_t> dummy_tokens(512, 1);
  for (Sequence& q : s.seqs) {
    const int32_t from = history ? 0 : q.history;
    const int32_t to = history ? q.history : q.history + q.step;
    if (to == from) continue;
    b.add_sequence(dummy_tokens.data(), to - from, to, q.pages, !history);
  }
  if (b.num_tokens() == 0) return;
  for (int32_t l = 0; l < g.num_layers; ++l) {
    k.clear();
    v.clear();
    for (Sequence& q : s.seqs) {
      const int32_t from = history ? 0 : q.history;
      const int32_t to = history ? q.history : q.history + q.step;
      k.insert(k.end(), q.k[l].begin() + static_cast<std::ptrdiff_t>(from * per_pos),
               q.k[l].begin() + static_cast<std::ptrdiff_t>(to * per_pos));
      v.insert(v.end(), q.v[l].begin() + static_cast<std::ptrdiff_t>(from * per_pos),
               q.v[l].begin() + static_cast<std::ptrdiff_t>(to * per_pos));
    }
    kv_store(b, l, k.data(), v.data(), KvPoolView{s.pool_bytes.data(), g});
  }
  if (!history) s.step = b;
}

// out[t, h, :] by the definition, in double, from the dense arrays.
std::vector<double> dense_attention(const Scenario& s, int32_t layer, const std::vector<float>& q,
                                    float scale) {
  const KvGeometry& g = s.g;
  const int32_t D = g.head_dim, H = s.num_heads, group = H / g.num_kv_heads;
  std::vector<double> out(q.size());
  int32_t t = 0;
  for (const Sequence& seq : s.seqs) {
    for (int32_t i = 0; i < seq.step; ++i, ++t) {
      const int32_t pos = seq.history + i;
      for (int32_t h = 0; h < H; ++h) {
        const int32_t kvh = h / group;
        std::vector<double> w(static_cast<size_t>(pos) + 1);
        double mx = -INFINITY;
        for (int32_t j = 0; j <= pos; ++j) {
          double dot = 0;
          for (int32_t d = 0; d < D; ++d)
            dot += static_cast<double>(q[static_cast<size_t>((t * H + h) * D + d)]) *
                   seq.k[layer][static_cast<size_t>((j * g.num_kv_heads + kvh) * D + d)];
          w[static_cast<size_t>(j)] = dot * scale;
          mx = std::max(mx, w[static_cast<size_t>(j)]);
        }
        double sum = 0;
        for (double& x : w) sum += (x = std::exp(x - mx));
        for (int32_t d = 0; d < D; ++d) {
          double acc = 0;
          for (int32_t j = 0; j <= pos; ++j)
            acc += w[static_cast<size_t>(j)] *
                   seq.v[layer][static_cast<size_t>((j * g.num_kv_heads + kvh) * D + d)];
          out[static_cast<size_t>((t * H + h) * D + d)] = acc / sum;
        }
      }
    }
  }
  return out;
}

// Every stored element sits where the layout formula says, and nothing else was written.
void check_pool_contents(const Scenario& s) {
  const KvGeometry& g = s.g;
  size_t expected_written = 0;
  for (const Sequence& q : s.seqs) {
    const int32_t ctx = q.history + q.step;
    expected_written += 2ull * g.num_layers * ctx * g.num_kv_heads * g.head_dim;
    for (int32_t l = 0; l < g.num_layers; ++l)
      for (int32_t p = 0; p < ctx; ++p)
        for (int kv = 0; kv < 2; ++kv)
          for (int32_t h = 0; h < g.num_kv_heads; ++h)
            for (int32_t d = 0; d < g.head_dim; ++d) {
              // Layer-major: [layer][page][kv][head][slot][dim].
              const size_t index =
                  ((((static_cast<size_t>(l) * g.num_pages +
                      q.pages[static_cast<size_t>(p / g.page_size)]) *
                         2 +
                     kv) *
                        g.num_kv_heads +
                    h) *
                       g.page_size +
                   p % g.page_size) *
                      g.head_dim +
                  d;
              const float got =
                  g.dtype == DType::kF32
                      ? reinterpret_cast<const float*>(s.pool_bytes.data())[index]
                      : bf16_to_f32(reinterpret_cast<const uint16_t*>(s.pool_bytes.data())[index]);
              const auto& src = kv == 0 ? q.k[l] : q.v[l];
              ASSERT_EQ(got, src[static_cast<size_t>((p * g.num_kv_heads + h) * g.head_dim + d)])
                  << "layer " << l << " pos " << p << " kv " << kv << " head " << h << " d " << d;
            }
  }
  size_t written = 0;
  const size_t n = s.pool_bytes.size() / dtype_size(g.dtype);
  for (size_t i = 0; i < n; ++i) {
    const float f = g.dtype == DType::kF32
                        ? reinterpret_cast<const float*>(s.pool_bytes.data())[i]
                        : bf16_to_f32(reinterpret_cast<const uint16_t*>(s.pool_bytes.data())[i]);
    written += !std::isnan(f);
  }
  EXPECT_EQ(written, expected_written);
}

// Bound: |out - dense| <= 2e-5 max|V| (outputs are convex combinations of V rows; the error
// is the softmax weights' relative error: f32 scores and a ~2-ulp exp).
constexpr double kBound = 2e-5;
// The AMX kernel (prefill rows, bf16 K/V, head_dim % 32 == 0) computes with q·scale rounded to
// bf16 and the softmax weights rounded to bf16. Against dense attention of that rounded q, the
// weights' rounding (relative at most 2^-8 each: 8 significant bits, normalised by the
// unrounded sum) moves an output by at most 2^-8 max|V|; the bound leaves a quarter of that
// for f32 accumulation and exp.
constexpr double kAmxBound = 1.25 / 256;

TEST_P(AttentionTest, MixedBatchMatchesDenseAttention) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  auto pool = testing::make_pool();
  double worst = 0, worst_twin = 0, worst_amx = 0;
  int64_t amx_rows = 0;  // outputs the AMX kernel computed (off the f32 reference)
  bool amx_rounds = false;
  for (int round = 0; round < 12; ++round) {
    const int32_t dims[] = {64, 128, 16, 48, 8, 256};
    const int32_t head_dim = dims[rng.integer(0, 5)];
    const DType dtype = rng.integer(0, 1) ? DType::kBF16 : DType::kF32;
    Scenario s = make_scenario(rng, head_dim, dtype);
    SCOPED_TRACE(::testing::Message()
                 << "round " << round << ": page_size " << s.g.page_size << " layers "
                 << s.g.num_layers << " kv_heads " << s.g.num_kv_heads << " heads " << s.num_heads
                 << " D " << head_dim << " " << dtype_name(dtype));
    store_range(s, /*history=*/true);
    store_range(s, /*history=*/false);
    ASSERT_EQ(s.step.validate(s.g.page_size, s.g.num_pages), "");
    check_pool_contents(s);
    const float q_scale = rng.integer(0, 1) ? 1.0f : 4.0f;  // 4: peaked softmax
    const std::vector<float> q =
        rng.normals(static_cast<size_t>(s.step.num_tokens()) * s.num_heads * head_dim, q_scale);
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    const KvPoolView view{s.pool_bytes.data(), s.g};
    const bool amx = GetParam() == CpuTier::kAmx && dtype == DType::kBF16 && head_dim % 32 == 0;
    amx_rounds = amx_rounds || amx;
    for (int32_t layer = 0; layer < s.g.num_layers; ++layer) {
      std::vector<float> out(q.size()), twin(q.size());
      testing::poison(out);
      paged_attention(*pool, s.step, layer, q.data(), s.num_heads, scale, view, out.data());
      paged_attention_reference(*pool, s.step, layer, q.data(), s.num_heads, scale, view,
                                twin.data());
      const std::vector<double> ref = dense_attention(s, layer, q, scale);
      // Prefill rows on AMX: q·scale rounded to bf16 (decode rows keep f32 q; they are
      // compared with `ref`).
      std::vector<double> ref_amx;
      if (amx) {
        std::vector<float> q_bf16(q.size());
        for (size_t i = 0; i < q.size(); ++i) q_bf16[i] = bf16_to_f32(f32_to_bf16(q[i] * scale)) / scale;
        ref_amx = dense_attention(s, layer, q_bf16, scale);
      }
      double max_v = 0;
      for (const Sequence& seq : s.seqs)
        for (float f : seq.v[static_cast<size_t>(layer)])
          max_v = std::max(max_v, static_cast<double>(std::fabs(f)));
      for (size_t i = 0; i < out.size(); ++i) {
        ASSERT_TRUE(std::isfinite(out[i]))
            << "output " << i << " unwritten: token " << i / (s.num_heads * head_dim)
            << " position " << s.step.positions[i / (s.num_heads * head_dim)] << " sequence "
            << s.step.token_sequence[i / (s.num_heads * head_dim)] << " twin " << twin[i]
            << " dense " << ref[i];
        const double err_twin = std::fabs(twin[i] - ref[i]) / max_v;
        ASSERT_LE(err_twin, 1e-6) << "reference twin, layer " << layer << " element " << i;
        worst_twin = std::max(worst_twin, err_twin);
        const int32_t token = static_cast<int32_t>(i / (s.num_heads * head_dim));
        const BatchSequence& bs =
            s.step.sequences[static_cast<size_t>(s.step.token_sequence[static_cast<size_t>(token)])];
        const double err = std::fabs(out[i] - ref[i]) / max_v;
        // A prefill row goes to the AMX kernel unless its work item went to the f32 one (an
        // item of one token, a split key range, several kv heads: attention.cpp), which matches
        // `ref` (a row of a 33-token prefill did, 7e-8 from it, and failed the AMX bound against
        // the bf16-q reference). So: the f32 bound against `ref`, else the AMX bound against
        // `ref_amx`. The f32 kernel itself is held to kBound on every row by the other tiers.
        if (amx && bs.num_tokens > 1 && err > kBound) {
          const double err_amx = std::fabs(out[i] - ref_amx[i]) / max_v;
          ASSERT_LE(err_amx, kAmxBound) << "AMX prefill row, layer " << layer << " element " << i
                                        << " (" << err << " from the f32 reference)";
          worst_amx = std::max(worst_amx, err_amx);
          ++amx_rows;
          continue;
        }
        ASSERT_LE(err, kBound) << "layer " << layer << " element " << i;
        worst = std::max(worst, err);
      }
    }
  }
  std::printf("[ tier %s ] attention max |out - dense| / max|V| %.2e (bound %.0e), twin %.2e\n",
              cpu_tier_name(GetParam()), worst, kBound, worst_twin);
  if (GetParam() == CpuTier::kAmx)
    std::printf("[ tier amx ] rounds with bf16 K/V and head_dim %% 32 == 0 (AMX prefill): "
                "%lld outputs, max %.2e against q rounded to bf16 (bound %.1e)\n",
                static_cast<long long>(amx_rows), worst_amx, kAmxBound);
  // The AMX kernel ran wherever it applies: a dispatch that sent every prefill item to the
  // f32 kernel would pass the bounds above without it.
  if (amx_rounds) {
    EXPECT_GT(amx_rows, 0);
  }
}

AS_INSTANTIATE_ALL_TIERS(AttentionTest);

}  // namespace
}  // namespace agentserve::cpu
