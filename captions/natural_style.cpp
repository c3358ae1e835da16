// The natural style (natural_captioner.hpp): English captions from the human names of tags,
// added to the rule style's by `--caption-style natural`.

#include "captions/caption_style.hpp"
#include "captions/natural_captioner.hpp"

namespace skyscript::captions {

namespace {

constexpr std::string_view natural_fields[] = {"title_natural", "title_multi_objects_natural"};

class NaturalStyle final : public CaptionStyle {
public:
    explicit NaturalStyle(const CaptionResources& resources)
        : names_(NameTable::parse(resources.tag_names)), natural_(names_, CaptionTables::builtin(), resources.options) {}

    void caption(TagSet focus, std::span<const TagSet> surrounding, CaptionEntries& out) const override {
        out.push_back({std::string(natural_fields[0]), natural_.title(focus)});
        out.push_back({std::string(natural_fields[1]), natural_.title_multi_objects(focus, surrounding)});
    }

private:
    NameTable names_; // before natural_, which keeps a reference to it
    NaturalCaptioner natural_;
};

} // namespace

extern const CaptionStyleKind natural_style; // registered in caption_styles.cpp
const CaptionStyleKind natural_style{
    "natural", natural_fields, [](const CaptionResources& r) -> std::unique_ptr<CaptionStyle> { return std::make_unique<NaturalStyle>(r); }};

} // namespace skyscript::captions
