// The JSON writer behind `snapheap info --json` (tools/json.hpp): escaping names from a file, and
// commas and indentation.
#include <catch2/catch.hpp>

#include <sstream>

#include "tool_support.hpp"
#include "tools/json.hpp"

namespace json = snapheap_tool::json;

TEST_CASE("json::quote escapes quotes, backslashes and control characters", "[tool]") {
  CHECK(json::quote("") == R"("")");
  CHECK(json::quote("seed::Payload") == R"("seed::Payload")");
  CHECK(json::quote(R"(a "b" \c)") == R"("a \"b\" \\c")");
  CHECK(json::quote("tab\there\nnew\rret\bback\fform") == R"("tab\there\nnew\rret\bback\fform")");
  CHECK(json::quote(std::string_view("nul\0one\x01" "del\x7f", 12)) == R"("nul\u0000one\u0001del\u007f")");
  CHECK(json::quote("slash/stays") == R"("slash/stays")");
}

TEST_CASE("json::quote passes well-formed UTF-8 and replaces each ill-formed byte with U+FFFD", "[tool]") {
  CHECK(json::quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  CHECK(json::quote("\xff") == R"("\ufffd")");
  CHECK(json::quote("\xc0\x80") == R"("\ufffd\ufffd")");          // overlong NUL
  CHECK(json::quote("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");  // a UTF-16 surrogate
  CHECK(json::quote("\xf4\x90\x80\x80") == R"("\ufffd\ufffd\ufffd\ufffd")");  // past U+10FFFF
  CHECK(json::quote("cut \xe2\x82") == R"("cut \ufffd\ufffd")");  // a sequence cut short
  CHECK(json::quote("\x80x") == R"("\ufffdx")");                   // a lone continuation byte
}

TEST_CASE("json::Writer places commas, indentation and compact rows", "[tool]") {
  std::ostringstream out;
  json::Writer w(out);
  w.begin_object();
  w.key("n").value(3u);
  w.key("s").value("x\"y");
  w.key("empty").begin_array().end_array();
  w.key("rows").begin_array();
  w.begin_object(true).key("a").value(std::uint64_t{1}).key("b").value(true).end_object();
  w.begin_object(true).key("a").value(std::size_t{2}).end_object();
  w.end_array();
  w.key("inline").begin_object(true).key("x").value(0u).end_object();
  w.end_object();
  CHECK(out.str() ==
        "{\n"
        "  \"n\": 3,\n"
        "  \"s\": \"x\\\"y\",\n"
        "  \"empty\": [],\n"
        "  \"rows\": [\n"
        "    {\"a\": 1, \"b\": true},\n"
        "    {\"a\": 2}\n"
        "  ],\n"
        "  \"inline\": {\"x\": 0}\n"
        "}\n");
  CHECK(tool_test::JsonChecker(out.str()).valid());
}

TEST_CASE("the tests' JSON checker rejects what is not JSON", "[tool]") {
  using tool_test::JsonChecker;
  CHECK(JsonChecker(R"({"a": [1, 2.5, -3e2, "x\u00e9"], "b": {}, "c": null})").valid());
  CHECK_FALSE(JsonChecker(R"({"a": 1,})").valid());
  CHECK_FALSE(JsonChecker(R"({"a" 1})").valid());
  CHECK_FALSE(JsonChecker("{\"a\": \"raw\nnewline\"}").valid());
  CHECK_FALSE(JsonChecker(R"({"a": "\x"})").valid());
  CHECK_FALSE(JsonChecker(R"({"a": 01})").valid());
  CHECK_FALSE(JsonChecker(R"({"a": 1} {})").valid());
}
