#include "model.h"

namespace emp {
std::string_view last_arn_segment(std::string_view arn) {
  // "arn:…:task/cluster/id/" names the same task as without the trailing
  // slash: the last non-empty segment, never an empty one while any exists.
  // "arn:…:task/" has none: what precedes the first '/' is the ARN's prefix.
  const bool has_slash = arn.find('/') != std::string_view::npos;
  while (!arn.empty() && arn.back() == '/') arn.remove_suffix(1);
  size_t slash = arn.rfind('/');
  if (slash == std::string_view::npos) return has_slash ? std::string_view() : arn;
  return arn.substr(slash + 1);
}

const std::string* TaskIdentity::get(std::string_view label) const {
  if (label == "task_id") return &task_id;
  if (label == "task_family") return &task_family;
  if (label == "task_revision") return &task_revision;
  if (label == "cluster") return &cluster;
  if (label == "service_name") return &service_name;
  if (label == "availability_zone") return &availability_zone;
  if (label == "launch_type") return &launch_type;
  return nullptr;
}

TaskIdentity identity_of(const TaskMeta& task) {
  TaskIdentity id;
  update_identity(task, id);
  return id;
}

void update_identity(const TaskMeta& task, TaskIdentity& id) {
  id.task_id.assign(last_arn_segment(task.task_arn));
  id.task_family.assign(task.family);
  id.task_revision.assign(task.revision);
  id.cluster.assign(last_arn_segment(task.cluster));
  id.service_name.assign(task.service_name);
  id.availability_zone.assign(task.availability_zone);
  id.launch_type.assign(task.launch_type);
}

}  // namespace emp
