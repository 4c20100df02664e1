# The library's files that need no LibTorch: the tokenizer, every parser of outside input and the file
# utilities. The fuzz targets (fuzz/) and the sanitizer runs of their tests (tests/sanitizers/) compile these
# on their own, so an instrumented build of them is quick and never waits for LibTorch's headers.
set(BERTFORGE_TORCH_FREE_SOURCES
    text/basic_tokenizer.cpp text/encoding.cpp text/parallel_lines.cpp text/save_tokenizer.cpp
    text/tokenize_stream.cpp text/tokenizer.cpp text/tokenizer_files.cpp text/unicode.cpp text/utf8.cpp
    text/vocab.cpp text/wordpiece.cpp
    data/arrow_hf.cpp data/arrow_hf_export.cpp data/arrow_records.cpp data/corpus.cpp data/examples.cpp data/pairs.cpp data/rng.cpp
    data/sentences.cpp data/shard.cpp data/stats.cpp data/text_records.cpp
    model/config.cpp model/safetensors_format.cpp
    train/recipe.cpp train/resume_point.cpp train/trainer_state.cpp train/training_args.cpp
    util/atomic_file.cpp util/atomic_folder.cpp util/checksum.cpp util/error.cpp util/event_file.cpp
    util/folder_lock.cpp util/json_file.cpp util/messages.cpp util/progress.cpp)
list(TRANSFORM BERTFORGE_TORCH_FREE_SOURCES PREPEND ${PROJECT_SOURCE_DIR}/src/bertforge/)
