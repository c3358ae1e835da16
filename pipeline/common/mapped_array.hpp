#pragma once
// A growable array of trivially copyable values in a memory-mapped scratch file,
// removed when the array is destroyed. For per-object data of planet-sized runs
// (the catalog's R*Tree boxes: 24 bytes x ~700 M objects): the page cache holds it,
// so the process's own memory stays bounded and the kernel writes it out as needed.

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace skyscript::pipeline {

template <typename T>
class MappedArray {
    static_assert(std::is_trivially_copyable_v<T>);

public:
    explicit MappedArray(std::string path) : path_(std::move(path)) {
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd_ < 0) throw std::runtime_error(path_ + ": cannot create scratch file (" + std::strerror(errno) + ")");
        grow(1 << 16);
    }
    ~MappedArray() {
        if (data_) ::munmap(data_, capacity_ * sizeof(T));
        if (fd_ >= 0) ::close(fd_);
        ::unlink(path_.c_str());
    }
    MappedArray(const MappedArray&) = delete;
    MappedArray& operator=(const MappedArray&) = delete;

    void push_back(const T& v) {
        if (size_ == capacity_) grow(capacity_ * 2);
        data_[size_++] = v;
    }
    T* begin() noexcept { return data_; }
    T* end() noexcept { return data_ + size_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

private:
    void grow(std::size_t capacity) {
        if (::ftruncate(fd_, static_cast<off_t>(capacity * sizeof(T))) != 0)
            throw std::runtime_error(path_ + ": cannot grow scratch file (" + std::strerror(errno) + ")");
        void* p = data_ ? ::mremap(data_, capacity_ * sizeof(T), capacity * sizeof(T), MREMAP_MAYMOVE)
                        : ::mmap(nullptr, capacity * sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
        if (p == MAP_FAILED) throw std::runtime_error(path_ + ": cannot map scratch file (" + std::strerror(errno) + ")");
        data_ = static_cast<T*>(p);
        capacity_ = capacity;
    }

    std::string path_;
    int fd_ = -1;
    T* data_ = nullptr;
    std::size_t size_ = 0, capacity_ = 0;
};

} // namespace skyscript::pipeline
