#pragma once
// The polish stage (after write, before split; in the bare command with --polish, or
// `skyscript-build polish OUT`): for every written image a language-polished version of
// `title` and `title_multi_objects` from an OpenAI-compatible model, checked against the
// image's tags before it is kept (answer_check.hpp). One request per distinct input: inputs
// are keyed by a hash of the model and its settings, the prompt template and the rendered
// prompt, identical captions share one answer, and answers are cached in
// OUT/polish_answers.sqlite (answer_cache.hpp), so a rerun, a replan or a --reuse build asks
// only for inputs never answered. An answer that fails the check is asked again once with the
// reason; a second failure keeps the natural-style caption and counts as rejected. The
// polished texts go to the state DB (caption columns title_polished,
// title_multi_objects_polished, and each job's `polish` record: model, prompt hash, verdicts),
// and the meta files are made again for every job whose captions changed.

#include "pipeline/state/build_session.hpp"

namespace skyscript::pipeline {

// Its count: images with both captions polished (kept or rejected); incomplete when a request failed.
StageSummary stage_polish(BuildSession& s);

} // namespace skyscript::pipeline
