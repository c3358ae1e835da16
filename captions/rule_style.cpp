// The rule style (captioner.hpp): SkyScript's own two captions, which every build writes.

#include "captions/caption_style.hpp"

namespace skyscript::captions {

namespace {

constexpr std::string_view rule_fields[] = {"title", "title_multi_objects"};

class RuleStyle final : public CaptionStyle {
public:
    explicit RuleStyle(const CaptionResources& resources) : rules_(CaptionTables::builtin(), resources.options) {}

    void caption(TagSet focus, std::span<const TagSet> surrounding, CaptionEntries& out) const override {
        out.push_back({std::string(rule_fields[0]), rules_.title(focus)});
        out.push_back({std::string(rule_fields[1]), rules_.title_multi_objects(focus, surrounding)});
    }

private:
    Captioner rules_;
};

} // namespace

extern const CaptionStyleKind rule_style; // registered in caption_styles.cpp
const CaptionStyleKind rule_style{"rule", rule_fields,
                                         [](const CaptionResources& r) -> std::unique_ptr<CaptionStyle> { return std::make_unique<RuleStyle>(r); }};

} // namespace skyscript::captions
