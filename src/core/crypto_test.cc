// SPDX-License-Identifier: EUPL-1.2
#include "core/crypto.h"

#include <string>

#include <gtest/gtest.h>

namespace carrefour::crypto {
namespace {

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

std::string Hex(const Digest& digest) {
  return Hex(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// FIPS 180-2 examples.
TEST(Crypto, Sha256MatchesTheStandardsExamples) {
  EXPECT_EQ(Hex(Sha256Of("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256Of("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 sha;
  sha.Update("a").Update("").Update("bc");
  EXPECT_EQ(Hex(sha.Final()), Hex(Sha256Of("abc")));
  // Final readies the state for the next message.
  EXPECT_EQ(Hex(sha.Update("abc").Final()), Hex(Sha256Of("abc")));
  EXPECT_EQ(Hex(sha.Final()), Hex(Sha256Of("")));
}

// RFC 4231 test cases 1, 2 and 6 (a key longer than the block is hashed first).
TEST(Crypto, HmacSha256MatchesRfc4231) {
  struct Row {
    std::string key, message, mac;
  };
  const Row rows[] = {
      {std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.message);
    EXPECT_EQ(Hex(HmacSha256Of(row.key, row.message)), row.mac);
    HmacSha256 keyed(row.key);
    EXPECT_EQ(Hex(keyed.Mac(row.message)), row.mac);
    EXPECT_EQ(Hex(keyed.Mac(row.message)), row.mac);  // the key's state is kept
  }
}

TEST(Crypto, RandomBytesAreNotAllTheSame) {
  std::array<uint8_t, 32> a{}, b{};
  ASSERT_TRUE(RandomBytes(a));
  ASSERT_TRUE(RandomBytes(b));
  EXPECT_NE(a, b);
}

TEST(Crypto, ConstantTimeEqualsComparesBytesAndSizes) {
  EXPECT_TRUE(ConstantTimeEquals("token", "token"));
  EXPECT_FALSE(ConstantTimeEquals("token", "tokem"));
  EXPECT_FALSE(ConstantTimeEquals("token", "token2"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals(Sha256Of("a"), Sha256Of("a")));
  EXPECT_FALSE(ConstantTimeEquals(Sha256Of("a"), Sha256Of("b")));
}

// RFC 4648 section 10, and what strict decoding refuses.
TEST(Crypto, Base64RoundTripsAndRefusesWhatIsNotBase64) {
  const std::pair<std::string, std::string> rows[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [bytes, text] : rows) {
    SCOPED_TRACE(bytes);
    EXPECT_EQ(Base64Encode(bytes), text);
    EXPECT_EQ(Base64Decode(text), bytes);
  }
  for (std::string_view bad : {"Zg=", "Zg=a", "Z===", "Zm9v!A==", "=Zm9"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(Base64Decode(bad));
  }
}

// RFC 8032 section 7.1, test 1 (an empty message).
TEST(Crypto, Ed25519SignsAndVerifiesAsRfc8032) {
  Result<Ed25519PrivateKey> key = Ed25519PrivateKey::FromSeed(
      Unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(key);
  EXPECT_EQ(Hex(key->PublicKey()), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const std::string signature = key->Sign("");
  EXPECT_EQ(Hex(signature),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
            "b46bd25bf5f0595bbe24655141438e7a100b");
  Result<Ed25519PublicKey> public_key = Ed25519PublicKey::FromRaw(key->PublicKey());
  ASSERT_TRUE(public_key);
  EXPECT_TRUE(public_key->Verify("", signature));
  EXPECT_FALSE(public_key->Verify("x", signature));
  EXPECT_FALSE(public_key->Verify("", signature.substr(1)));

  EXPECT_FALSE(Ed25519PrivateKey::FromSeed("short"));
  EXPECT_FALSE(Ed25519PublicKey::FromRaw(std::string(31, 'a')));
}

}  // namespace
}  // namespace carrefour::crypto
