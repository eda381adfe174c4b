#include "core/code_extract.h"

#include <gtest/gtest.h>

namespace smsx {
namespace {

struct Case {
  const char* text;
  const char* code;  // nullptr: no code
};

TEST(CodeExtract, TableOfTexts) {
  const Case cases[] = {
      {"Your WhatsApp code is 482913. Don't share it.", "482913"},
      {"123-456 is your code", "123456"},
      {"123 456 is your code", "123456"},
      {"G-482913 is your Google verification code.", "482913"},
      {"code 5521", "5521"},
      {"code 123", nullptr},                  // 3 digits: too short
      {"ref 123456789 then 4321", "4321"},    // 9-digit run skipped
      {"12 34", "1234"},                      // groups joined
      {"12--34", nullptr},                    // double separator ends a run
      {"12 - 34 code 99887766", "99887766"},  // " - " is not a single separator
      {"Call 1555000123 code 7777", "7777"},
      {"no digits at all", nullptr},
      {"", nullptr},
      {"1234", "1234"},
      {"12345678", "12345678"},
      {"1234-", "1234"},                       // trailing separator dropped
      {"tel 555-0199, code 8080", "5550199"},  // the first run wins
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    auto got = extract_code(c.text);
    if (c.code == nullptr) {
      EXPECT_FALSE(got.has_value()) << *got;
    } else {
      ASSERT_TRUE(got.has_value());
      EXPECT_EQ(*got, c.code);
    }
  }
}

}  // namespace
}  // namespace smsx
