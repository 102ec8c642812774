#include "fscore/volume.hpp"

namespace daxpolicy::fscore
{

const char *dax_mode_name(DaxMode mode)
{
	switch (mode) {
	case DaxMode::always:
		return "always";
	case DaxMode::never:
		return "never";
	case DaxMode::inode:
		return "inode";
	}
	return "inode";
}

std::optional<DaxMode> dax_mode_from_name(std::string_view name)
{
	for (DaxMode m : {DaxMode::always, DaxMode::never, DaxMode::inode})
		if (name == dax_mode_name(m))
			return m;
	return std::nullopt;
}

const char *file_type_name(FileType type)
{
	switch (type) {
	case FileType::regular:
		return "file";
	case FileType::directory:
		return "directory";
	case FileType::other:
		return "other";
	}
	return "other";
}

Subscription &Subscription::operator=(Subscription &&other) noexcept
{
	if (this != &other) {
		if (cancel_)
			cancel_();
		cancel_ = std::exchange(other.cancel_, {});
	}
	return *this;
}

Subscription::~Subscription()
{
	if (cancel_)
		cancel_();
}

} // namespace daxpolicy::fscore
