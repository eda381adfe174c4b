#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/names.h"
#include "core/phone.h"

namespace smsx {
namespace {

TEST(Phone, PacksAndUnpacksKeepingLeadingZeros) {
  for (const char* digits : {"123456", "15550001234", "012345678901234", "000000"}) {
    auto p = pack_phone(digits);
    ASSERT_TRUE(p.has_value()) << digits;
    EXPECT_EQ(unpack_phone(*p), digits);
  }
  EXPECT_NE(*pack_phone("0123456"), *pack_phone("123456"));
}

TEST(Phone, RoundTripsEveryLengthAndDigitPattern) {
  // Odd and even digit counts, zeros in every position, the largest values of each length.
  for (size_t len = 6; len <= 15; ++len) {
    for (char fill : {'0', '1', '5', '9'}) {
      for (size_t pos = 0; pos < len; ++pos) {
        std::string digits(len, fill);
        digits[pos] = fill == '0' ? '7' : '0';
        auto p = pack_phone(digits);
        ASSERT_TRUE(p.has_value()) << digits;
        EXPECT_EQ(unpack_phone(*p), digits);
      }
      std::string same(len, fill);
      EXPECT_EQ(unpack_phone(*pack_phone(same)), same);
    }
  }
}

TEST(Phone, RefusesWrongLengthsAndNonDigits) {
  EXPECT_FALSE(pack_phone("12345").has_value());
  EXPECT_FALSE(pack_phone("1234567890123456").has_value());
  EXPECT_FALSE(pack_phone("+15550001").has_value());
  EXPECT_FALSE(pack_phone("1555 0001").has_value());
  EXPECT_FALSE(pack_phone("").has_value());
}

TEST(Names, ValidNamesAre1To16OfLowercaseDigitsUnderscoreDash) {
  EXPECT_TRUE(valid_name("wa"));
  EXPECT_TRUE(valid_name("a_b-9"));
  EXPECT_TRUE(valid_name("abcdefghijklmnop"));
  EXPECT_FALSE(valid_name(""));
  EXPECT_FALSE(valid_name("abcdefghijklmnopq"));
  EXPECT_FALSE(valid_name("WA"));
  EXPECT_FALSE(valid_name("w a"));
  EXPECT_FALSE(valid_name("wa!"));
}

TEST(Names, SymbolsAreAssignedInOrderOfFirstAppearance) {
  SymbolTable t;
  EXPECT_EQ(t.find("wa"), kNoSymbol);
  EXPECT_EQ(*t.intern("wa"), 1);
  EXPECT_EQ(*t.intern("tg"), 2);
  EXPECT_EQ(*t.intern("wa"), 1);
  EXPECT_EQ(t.find("tg"), 2);
  EXPECT_EQ(t.name(2), "tg");
  EXPECT_EQ(t.size(), 2u);
}

TEST(Names, EveryValidNameHasItsOwnKey) {
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_-";
  std::vector<std::string> names;
  for (char a : alphabet) {
    names.emplace_back(1, a);
    for (char b : alphabet) names.push_back(std::string{a, b});
  }
  // Long names that differ only in their last characters, on both words of the key.
  for (size_t len = 9; len <= 16; ++len) {
    names.push_back(std::string(len, 'z'));
    names.push_back(std::string(len - 1, 'z') + "-");
    names.push_back(std::string(len - 1, '-') + "z");
  }
  std::set<std::pair<uint64_t, uint64_t>> keys;
  for (const std::string& name : names) {
    const std::optional<NameKey> k = name_key(name);
    ASSERT_TRUE(k.has_value()) << name;
    EXPECT_TRUE(keys.insert({k->lo, k->hi}).second) << "two names share the key of " << name;
  }
  EXPECT_FALSE(name_key("").has_value());
  EXPECT_FALSE(name_key("abcdefghijklmnopq").has_value());
  EXPECT_FALSE(name_key("WA").has_value());
  EXPECT_FALSE(name_key(std::string_view("wa\0", 3)).has_value());
}

TEST(Names, SymbolTablesAlsoHoldNamesThatAreNotValidNames) {
  // Suppliers are gateway names (PROTOCOL.md: up to 64 of A-Z a-z 0-9 _ . -).
  SymbolTable t;
  const std::string long_name(64, 'S');
  EXPECT_EQ(*t.intern("Sim.Bank-1"), 1);
  EXPECT_EQ(*t.intern("sim-bank-1"), 2);
  EXPECT_EQ(*t.intern(long_name), 3);
  EXPECT_EQ(*t.intern("wa"), 4);
  EXPECT_EQ(*t.intern(std::string_view("wa\0", 3)), 5);
  EXPECT_EQ(t.find("Sim.Bank-1"), 1);
  EXPECT_EQ(t.find("sim-bank-1"), 2);
  EXPECT_EQ(t.find(long_name), 3);
  EXPECT_EQ(t.find("wa"), 4);
  EXPECT_EQ(t.find(std::string_view("wa\0", 3)), 5);
  EXPECT_EQ(t.find("SIM.BANK-1"), kNoSymbol);
  EXPECT_EQ(t.name(3), long_name);
  EXPECT_EQ(t.size(), 5u);
}

}  // namespace
}  // namespace smsx
