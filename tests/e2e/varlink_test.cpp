// SPDX-License-Identifier: BSD-3-Clause
// The daemon as a varlink service: what a generic varlink client (varlinkctl) asks of it.
#include "tests/e2e/harness.hpp"
#include "wire/interface.hpp"

#include <regex>
#include <set>

namespace daxpolicy::test
{

namespace
{

using nlohmann::json;

json call_raw(const Daemon &d, const json &call)
{
	std::string reply = exchange_raw(d.socket(), call.dump() + '\0');
	return json::parse(reply.substr(0, reply.find('\0')));
}

TEST(Varlink, TheInterfaceDescriptionDescribesEveryMethodAndError)
{
	Daemon d;
	json info = call_raw(d, {{"method", wire::kGetInfo}});
	EXPECT_EQ(info["parameters"]["interfaces"],
	          json::array({"org.varlink.service", "io.daxpolicy"}));

	json reply = call_raw(d, {{"method", wire::kGetInterfaceDescription},
	                          {"parameters", {{"interface", "io.daxpolicy"}}}});
	ASSERT_TRUE(reply["parameters"]["description"].is_string()) << reply.dump();
	std::string idl = reply["parameters"]["description"];
	EXPECT_EQ(idl.find("interface io.daxpolicy\n"), idl.find("interface ")) << idl;

	std::set<std::string> methods, errors;
	std::regex declaration(R"(\n(method|error) (\w+) ?\()");
	for (std::sregex_iterator it(idl.begin(), idl.end(), declaration), end; it != end; ++it)
		((*it)[1] == "method" ? methods : errors).insert((*it)[2]);
	// Every method the CLI can call, and every error it can be answered with.
	for (const auto &spec : wire::kMethods)
		EXPECT_TRUE(methods.count(spec.name)) << "method " << spec.name << " undescribed";
	EXPECT_EQ(methods.size(), wire::kMethods.size());
	for (const char *error : {"NotFound", "InvalidArgument", "PermissionDenied", "Busy",
	                          "NoSpace", "Corrupted", "Internal"})
		EXPECT_TRUE(errors.count(error)) << "error " << error << " undescribed";

	json unknown = call_raw(d, {{"method", wire::kGetInterfaceDescription},
	                            {"parameters", {{"interface", "io.example"}}}});
	EXPECT_EQ(unknown["error"], "org.varlink.service.InterfaceNotFound");
	EXPECT_EQ(unknown["parameters"]["interface"], "io.example");
}

TEST(Varlink, GetInfoSaysWhoServes)
{
	Daemon d;
	json info = call_raw(d, {{"method", wire::kGetInfo}})["parameters"];
	for (const char *key : {"vendor", "product", "version", "url"})
		EXPECT_TRUE(info[key].is_string() && !info[key].get<std::string>().empty()) << key;
}

// The errors of org.varlink.service, as a generic client (varlinkctl, python's varlink)
// expects them.
TEST(Varlink, UnknownMethodsAndParametersGetTheServiceErrors)
{
	Daemon d;
	json none = call_raw(d, {{"method", "io.daxpolicy.Frobnicate"}});
	EXPECT_EQ(none["error"], "org.varlink.service.MethodNotFound") << none.dump();
	EXPECT_EQ(none["parameters"]["method"], "io.daxpolicy.Frobnicate");

	json unknown = call_raw(d, {{"method", "io.daxpolicy.List"},
	                            {"parameters", {{"paths", {"pool0:/"}}, {"recursve", true}}}});
	EXPECT_EQ(unknown["error"], "org.varlink.service.InvalidParameter") << unknown.dump();
	EXPECT_EQ(unknown["parameters"]["parameter"], "recursve");

	json typed = call_raw(d, {{"method", "io.daxpolicy.List"}, {"parameters", {{"paths", 7}}}});
	EXPECT_EQ(typed["error"], "org.varlink.service.InvalidParameter") << typed.dump();
	EXPECT_EQ(typed["parameters"]["parameter"], "paths");
	EXPECT_NE(typed["parameters"]["message"].get<std::string>().find("array of strings"),
	          std::string::npos);
}

} // namespace

} // namespace daxpolicy::test
