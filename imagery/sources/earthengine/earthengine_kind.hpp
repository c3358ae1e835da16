#pragma once
// The `earthengine` source kind: an Earth Engine image collection read with
// computePixels (earthengine_source.hpp) under a service account (service_account.hpp);
// bands are band names, and each image tells its acquisition date.

#include "imagery/source_kind.hpp"

#include <string>

namespace skyscript::imagery {

struct EarthEngineSettings : SourceSettings {
    std::string collection;
    std::string project; // the Cloud project; "" for the key's project_id
    std::string endpoint = "https://earthengine-highvolume.googleapis.com";
    std::string cloud_property; // the image property ranked by (least cloudy first); "" for none
};

const SourceKind& earthengine_kind();

} // namespace skyscript::imagery
