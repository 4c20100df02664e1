# The library's files that need no LibTorch: the tokenizer, every parser of outside input and the file
# utilities. They form a library of their own, bertforge_torch_free, under bertforge_lib; the fuzz targets
# (fuzz/) compile them again with coverage instrumentation, and the sanitizer runs of their tests
# (tests/sanitizers/) link them alone, so an instrumented build of them is quick and never waits for
# LibTorch's headers.
set(BERTFORGE_TORCH_FREE_SOURCES
    text/basic_tokenizer.cpp text/encoding.cpp text/parallel_lines.cpp text/save_tokenizer.cpp
    text/tokenize_stream.cpp text/tokenizer.cpp text/tokenizer_files.cpp text/unicode.cpp text/utf8.cpp
    text/vocab.cpp text/wordpiece.cpp
    data/arrow_hf.cpp data/arrow_hf_export.cpp data/arrow_labelled.cpp data/arrow_records.cpp data/corpus.cpp
    data/examples.cpp data/labelled.cpp data/labelled_csv.cpp data/labelled_files.cpp data/labelled_labels.cpp
    data/labelled_text.cpp data/pairs.cpp data/rng.cpp data/sentences.cpp data/shard.cpp data/stats.cpp
    data/text_records.cpp
    eval/task_metrics.cpp
    infer/entities.cpp
    model/config.cpp model/onednn_gemm.cpp model/safetensors_format.cpp
    train/recipe.cpp train/resume_point.cpp train/schedule.cpp train/trainer_state.cpp train/training_args.cpp
    util/atomic_file.cpp util/atomic_folder.cpp util/checksum.cpp util/error.cpp util/event_file.cpp
    util/folder_lock.cpp util/json_file.cpp util/messages.cpp util/ordered_pool.cpp util/progress.cpp
    util/strings.cpp)
list(TRANSFORM BERTFORGE_TORCH_FREE_SOURCES PREPEND ${PROJECT_SOURCE_DIR}/src/bertforge/)

# model/onednn_gemm.cpp compiles against the system's oneDNN header (Debian: libdnnl-dev) and opens its library
# at run time.
find_path(BERTFORGE_ONEDNN_INCLUDE oneapi/dnnl/dnnl.h REQUIRED DOC "oneDNN's C header (Debian: libdnnl-dev)")

# bertforge_torch_free_library(NAME [SOURCES...]): a static library NAME of those files and SOURCES, with their
# include folder and dependencies, built with the calling folder's compile options.
function(bertforge_torch_free_library name)
  add_library(${name} STATIC ${BERTFORGE_TORCH_FREE_SOURCES} ${ARGN})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC bertforge::arrow nlohmann_json::nlohmann_json PkgConfig::UTF8PROC
                        Threads::Threads ZLIB::ZLIB ${CMAKE_DL_LIBS})
  # Source properties are per folder: the Arrow sources need C++20 wherever they are compiled.
  set_source_files_properties(${BERTFORGE_ARROW_SOURCES} PROPERTIES COMPILE_OPTIONS -std=gnu++20)
endfunction()
